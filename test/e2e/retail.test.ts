import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../src/presets/runtime.ts';
import { runBackfill } from '../../src/runtime/backfill.ts';
import { openTestRuntime, retailCounts, tempHome } from '../helpers/runtime.ts';
import { assertRetailTotals } from '../helpers/retail-totals.ts';

// One unpartitioned run over the committed 20-day sample, then a backfill of the same
// days into a second state directory: both must give the numbers.
describe('retail on the 20-day sample', () => {
  const dir = tempHome();
  let rt: Runtime;
  let full: Record<string, number>;

  before(async () => {
    rt = await openTestRuntime(dir.home);
  });
  after(async () => {
    await rt?.close();
    dir.cleanup();
  });

  test('an unpartitioned run loads every layer with the expected totals', async () => {
    const { done } = await rt.coordinator.submit({ pipeline: 'retail' });
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', detail.run.error ?? '');
    assert.deepEqual(detail.steps.map((s) => [s.step, s.status]), [
      ['schema', 'succeeded'], ['raw', 'succeeded'], ['staging', 'succeeded'],
      ['vault', 'succeeded'], ['marts', 'succeeded'], ['quality', 'succeeded'],
    ]);
    full = await retailCounts(rt);
    assertRetailTotals(full);
  });

  test('2010-12-01 quality and sales summary match the reference figures', async () => {
    const [q] = await rt.services.warehouse.query<Record<string, number>>(
      "SELECT lines, missing_customer_id_ratio AS ratio, anomaly_unit_price_count AS price, anomaly_quantity_count AS qty FROM quality.data_quality WHERE day = '2010-12-01'",
    );
    assert.equal(Number(q.lines), 3_108);
    assert.equal(Number(q.ratio).toFixed(5), '0.36680');
    assert.equal(Number(q.price), 9);
    const [s] = await rt.services.warehouse.query<Record<string, number>>(
      "SELECT fact_lines, min_total, max_total, median_total, volume FROM quality.sales_summary WHERE day = '2010-12-01'",
    );
    assert.equal(Number(s.fact_lines), 1_942);
    assert.equal(s.min_total, 0.29);
    assert.equal(s.max_total, 1627.2);
    assert.equal(Math.round(s.median_total * 100) / 100, 11.4);
    assert.equal(Math.round(s.volume * 100) / 100, 46_376.49);
  });

  test('the latest-day gauges hold the values of 2010-12-23 and reach the metrics text', async () => {
    const text = await rt.services.metrics.render();
    const [q] = await rt.services.warehouse.query<Record<string, number>>(
      "SELECT missing_customer_id_ratio AS r FROM quality.data_quality WHERE day = '2010-12-23'",
    );
    const [s] = await rt.services.warehouse.query<Record<string, number>>(
      "SELECT volume, max_total FROM quality.sales_summary WHERE day = '2010-12-23'",
    );
    const gauge = (name: string) => Number(new RegExp(`^${name}\\{pipeline="retail"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(gauge('missing_customer_id_ratio'), Number(q.r));
    assert.equal(gauge('latest_sales_volume'), s.volume);
    assert.equal(gauge('latest_max_total_amount'), s.max_total);
    for (const name of ['anomaly_unit_price_count', 'anomaly_quantity_count', 'latest_min_total_amount', 'latest_median_total_amount', 'latest_avg_total_amount']) {
      assert.ok(Number.isFinite(gauge(name)), `${name} missing from:\n${text}`);
    }
    const stored = await rt.services.metadata.listGauges();
    assert.equal(stored.find((g) => g.name === 'latest_sales_volume')?.value, s.volume);
  });

  test('rerunning a partition twice changes no count', async () => {
    for (let i = 0; i < 2; i++) {
      const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-09' });
      assert.equal((await done).run.status, 'succeeded');
      assert.deepEqual(await retailCounts(rt), full, `after rerun ${i + 1}`);
    }
  });

  test('a partitioned run loads only its own day', async () => {
    const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-01' });
    const detail = await done;
    const raw = await rt.services.metadata.assetHistory({ runId: detail.run.id, asset: 'raw.online_retail' });
    assert.equal(raw.materializations[0].rows, 3_108);
  });

  test('a partition without data fails its error check and skips everything downstream', async () => {
    const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-04' });
    const detail = await done;
    assert.equal(detail.run.status, 'failed');
    assert.match(detail.run.error ?? '', /check raw\.online_retail:raw_not_empty failed/);
    const status = Object.fromEntries(detail.steps.map((s) => [s.step, s.status]));
    assert.deepEqual(status, { schema: 'succeeded', raw: 'succeeded', staging: 'skipped', vault: 'skipped', marts: 'skipped', quality: 'skipped' });
    assert.match(detail.steps.find((s) => s.step === 'staging')?.reason ?? '', /raw_not_empty/);
    assert.deepEqual(await retailCounts(rt), full);
  });

  test('a backfill over all days gives the same numbers as one unpartitioned run', async () => {
    const second = tempHome();
    await rt.close();
    const bf = await openTestRuntime(second.home);
    try {
      const result = await runBackfill(bf.coordinator, bf.registry, { pipeline: 'retail', from: '2010-12-01', to: '2010-12-23', concurrency: 2 });
      const byStatus = Object.groupBy(result.partitions, (p) => p.detail.run.status);
      assert.equal(byStatus.succeeded?.length, 20);
      // Saturdays have no trading: their runs fail the raw_not_empty check, as they should.
      assert.deepEqual(byStatus.failed?.map((p) => p.partition), ['2010-12-04', '2010-12-11', '2010-12-18']);
      const counts = await retailCounts(bf);
      assert.deepEqual(counts, full);
    } finally {
      await bf.close();
      second.cleanup();
      rt = await openTestRuntime(dir.home);
    }
  });
});
