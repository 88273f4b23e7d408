import type { Warehouse } from '../ports/warehouse.ts';
import type { BackfillManager } from '../server/backfill-manager.ts';
import type { Runtime } from './runtime.ts';

/** The shipped pipeline whose sample a fresh state directory is given. */
export const DEMO_PIPELINE = 'retail';

/**
 * The days of the shipped sample (data/online-retail: 2010-12-01 to 2010-12-23, shut on
 * Saturdays). The demo loads them as a backfill, one run per day, so the partition grid
 * has every day's status from the first start, as it would after `sluice backfill`.
 */
export const DEMO_DAYS = { from: '2010-12-01', to: '2010-12-23' } as const;

/** What landed, as `sluice demo` shows it: one line per day, quality beside sales. */
export const DEMO_SUMMARY_SQL = `SELECT toString(q.day) AS day, q.lines, round(q.missing_customer_id_ratio, 4) AS missing_cust_ratio,
        q.anomaly_unit_price_count AS bad_price, s.fact_lines, s.min_total, s.max_total,
        round(s.median_total, 2) AS median_total, round(s.volume, 2) AS volume
 FROM quality.data_quality AS q JOIN quality.sales_summary AS s USING day ORDER BY day`;

/** Days of the sample in the warehouse; 0 when it was never loaded (the last table a load writes is empty or absent). */
export async function demoDays(wh: Warehouse): Promise<number> {
  const [r] = await wh.query<{ n: number }>(
    "SELECT count() AS n FROM system.tables WHERE database = 'quality' AND name = 'sales_summary' AND total_rows > 0",
  );
  if (Number(r.n) === 0) return 0;
  const [d] = await wh.query<{ days: number }>('SELECT count() AS days FROM quality.sales_summary');
  return Number(d.days);
}

/**
 * Gives a fresh state directory the demo sample: starts its backfill in the background and
 * says, for the banner, what the demo data is doing. `onDone` hears how the load ended.
 */
export async function seedDemo(rt: Runtime, backfills: BackfillManager, onDone: (line: string) => void): Promise<string> {
  if (!rt.registry.list().some((p) => p.name === DEMO_PIPELINE)) return `none (no ${DEMO_PIPELINE} pipeline found)`;
  const days = await demoDays(rt.services.warehouse);
  if (days > 0) return `the ${DEMO_PIPELINE} sample is loaded (${days} days; sluice run ${DEMO_PIPELINE} --all-partitions reloads it)`;
  const started = Date.now();
  const b = await backfills.start({ pipeline: DEMO_PIPELINE, ...DEMO_DAYS, concurrency: 2 }, (s) => {
    const c = s.counts;
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    onDone(s.status === 'succeeded'
      ? `demo data: the ${DEMO_PIPELINE} sample is loaded (backfill ${s.id}: ${c.succeeded} days, ${c.noData} without sales, ${took})`
      : `demo data: backfill ${s.id} ${s.status}: ${c.failed} of ${s.partitions.length} days failed (sluice runs --pipeline ${DEMO_PIPELINE} --status failed)`);
  });
  return `loading the ${DEMO_PIPELINE} sample in the background (backfill ${b.id}, ${b.partitions.length} days)`;
}
