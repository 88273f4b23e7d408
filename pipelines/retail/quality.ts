import { replacePartitions } from 'sluice';
import type { RetailContext } from './retail-pipeline.ts';
import { runDays } from './run-days.ts';

const STG = 'staging.online_retail WHERE day IN {days:Array(Date)}';

export interface DayQuality {
  day: string;
  lines: number;
  missing_customer_id_ratio: number;
  anomaly_unit_price_count: number;
  anomaly_quantity_count: number;
}

/**
 * One row per day: data quality of the staged lines, a sales summary of the day's fact
 * lines, and the offending lines themselves, each table materialized with its rows for the
 * run's days; then the latest day's figures as gauges.
 */
export async function buildQuality(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  const replace = async (table: string, select: string) => {
    const counts = await replacePartitions(wh, {
      table, column: 'day', days, writer: ctx,
      fill: (tmp) => wh.command(`INSERT INTO ${tmp} ${select} SETTINGS max_partitions_per_insert_block = 0`, params),
    });
    ctx.materialize(table, { rows: [...counts.values()].reduce((a, b) => a + b, 0), metadata: { days: days.length } });
  };
  await replace('quality.data_quality', `
    SELECT day, count(), countIf(customer_id IS NULL) / count(),
           countIf(NOT is_return AND unit_price <= 0), countIf(NOT is_return AND quantity > 1000)
    FROM ${STG} GROUP BY day`);
  // Days come from staging so that a day without a single sale still gets its row.
  await replace('quality.sales_summary', `
    SELECT s.day, ifNull(f.n, 0), ifNull(f.mn, 0), ifNull(f.mx, 0), ifNull(f.med, 0), ifNull(f.av, 0), ifNull(f.vol, 0)
    FROM (SELECT DISTINCT day FROM ${STG}) AS s
    LEFT JOIN (
      SELECT day, count() AS n, min(line_total) AS mn, max(line_total) AS mx,
             quantileExactInclusive(0.5)(line_total) AS med, avg(line_total) AS av, sum(line_total) AS vol
      FROM marts.fact_sales WHERE day IN {days:Array(Date)} GROUP BY day
    ) AS f ON f.day = s.day`);
  await replace('quality.line_issues', `
    SELECT day, line_hk, issue, invoice_no_raw, stock_code, quantity, unit_price, customer_id
    FROM (SELECT * FROM ${STG})
    ARRAY JOIN arrayFilter(x -> x != '', [
      if(customer_id IS NULL, 'missing_customer', ''),
      if(NOT is_return AND unit_price <= 0, 'unit_price_not_positive', ''),
      if(NOT is_return AND quantity > 1000, 'quantity_over_1000', '')]) AS issue`);
  await publishLatestGauges(ctx);
}

/** The latest day present in the data drives the `latest_*` and anomaly gauges. */
async function publishLatestGauges(ctx: RetailContext): Promise<void> {
  const [q] = await ctx.warehouse.query<DayQuality>(
    'SELECT toString(day) AS day, lines, missing_customer_id_ratio, anomaly_unit_price_count, anomaly_quantity_count FROM quality.data_quality ORDER BY day DESC LIMIT 1',
  );
  if (!q) return;
  const [s] = await ctx.warehouse.query<Record<string, number>>(
    'SELECT min_total, max_total, median_total, avg_total, volume FROM quality.sales_summary WHERE day = {day:Date}',
    { day: q.day },
  );
  const help = `latest day in the data (${q.day})`;
  ctx.gauge('anomaly_unit_price_count', Number(q.anomaly_unit_price_count), { help: `Non-return lines with UnitPrice <= 0, ${help}` });
  ctx.gauge('anomaly_quantity_count', Number(q.anomaly_quantity_count), { help: `Non-return lines with Quantity > 1000, ${help}` });
  ctx.gauge('missing_customer_id_ratio', Number(q.missing_customer_id_ratio), { help: `Share of lines without CustomerID, ${help}` });
  if (!s) return;
  ctx.gauge('latest_min_total_amount', s.min_total, { help: `Smallest sales line total, ${help}` });
  ctx.gauge('latest_max_total_amount', s.max_total, { help: `Largest sales line total, ${help}` });
  ctx.gauge('latest_median_total_amount', s.median_total, { help: `Median sales line total, ${help}` });
  ctx.gauge('latest_avg_total_amount', s.avg_total, { help: `Mean sales line total, ${help}` });
  ctx.gauge('latest_sales_volume', s.volume, { help: `Sum of sales line totals, ${help}` });
}
