import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../src/presets/runtime.ts';
import { runBackfill } from '../../src/runtime/backfill.ts';
import { startApi } from '../helpers/api.ts';
import { openTestRuntime, retailCounts, tempHome } from '../helpers/runtime.ts';
import { assertRetailTotals } from '../helpers/retail-totals.ts';

// One unpartitioned run over the committed 20-day sample, then a backfill of the same
// days into a second state directory: both must give the issue's numbers.
describe('retail on the 20-day sample', () => {
  const dir = tempHome();
  let rt: Runtime;
  let full: Record<string, number>;
  let dayRun = '';

  before(async () => {
    rt = await openTestRuntime(dir.home);
  });
  after(async () => {
    await rt?.close();
    dir.cleanup();
  });

  test('a run over all partitions loads every layer with the expected totals', async () => {
    const { done } = await rt.coordinator.submit({ pipeline: 'retail', allPartitions: true });
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
    const stored = await rt.services.metadata.gauges.list();
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
    dayRun = detail.run.id;
    const raw = await rt.services.metadata.assets.history({ runId: detail.run.id, asset: 'raw.online_retail' });
    assert.equal(raw.materializations[0].rows, 3_108);
  });

  test('GET /assets: one asset per table, its rows for the partition, and the lineage between them', async () => {
    // Each table's rows of 2010-12-01, found through the satellite's keys of that day's lines
    // (a different path from the pipeline's own counts, which start from staging).
    const day = "day = '2010-12-01'";
    const keysOf = (cols: string, notNull = '') => `(SELECT ${cols} FROM vault.sat_invoice_line WHERE ${day}${notNull})`;
    const cust = ' AND customer_hk IS NOT NULL';
    const slice: Record<string, string> = {
      'raw.online_retail': `SELECT count() FROM raw.online_retail WHERE ${day}`,
      'quality.quarantine': `SELECT count() FROM quality.quarantine FINAL WHERE run_id = '${dayRun}'`,
      'staging.online_retail': `SELECT count() FROM staging.online_retail WHERE ${day}`,
      'vault.hub_invoice': `SELECT count() FROM vault.hub_invoice FINAL WHERE invoice_hk IN ${keysOf('invoice_hk')}`,
      'vault.hub_product': `SELECT count() FROM vault.hub_product FINAL WHERE product_hk IN ${keysOf('product_hk')}`,
      'vault.hub_customer': `SELECT count() FROM vault.hub_customer FINAL WHERE customer_hk IN ${keysOf('assumeNotNull(customer_hk)', cust)}`,
      'vault.hub_time': `SELECT count() FROM vault.hub_time FINAL WHERE time_hk IN ${keysOf('time_hk')}`,
      'vault.hub_country': `SELECT count() FROM vault.hub_country FINAL WHERE country_hk IN ${keysOf('country_hk')}`,
      'vault.link_invoice_product': `SELECT count() FROM vault.link_invoice_product FINAL WHERE (invoice_hk, product_hk) IN ${keysOf('invoice_hk, product_hk')}`,
      'vault.link_invoice_customer': `SELECT count() FROM vault.link_invoice_customer FINAL WHERE (invoice_hk, customer_hk) IN ${keysOf('invoice_hk, assumeNotNull(customer_hk)', cust)}`,
      'vault.link_invoice_time': `SELECT count() FROM vault.link_invoice_time FINAL WHERE (invoice_hk, time_hk) IN ${keysOf('invoice_hk, time_hk')}`,
      'vault.link_invoice_country': `SELECT count() FROM vault.link_invoice_country FINAL WHERE (invoice_hk, country_hk) IN ${keysOf('invoice_hk, country_hk')}`,
      'vault.link_customer_country': `SELECT count() FROM vault.link_customer_country FINAL WHERE (customer_hk, country_hk) IN ${keysOf('assumeNotNull(customer_hk), country_hk', cust)}`,
      'vault.sat_invoice_line': `SELECT count() FROM vault.sat_invoice_line FINAL WHERE ${day}`,
      // A product's description may have had another version on another run's days: one current version per product.
      'vault.sat_product': `SELECT count(DISTINCT product_hk) FROM vault.sat_product WHERE product_hk IN ${keysOf('product_hk')}`,
      'vault.sat_time': `SELECT count() FROM vault.sat_time FINAL WHERE time_hk IN ${keysOf('time_hk')}`,
      'marts.dim_product': `SELECT count() FROM marts.dim_product FINAL WHERE product_hk IN ${keysOf('product_hk')}`,
      'marts.dim_customer': `SELECT count() FROM marts.dim_customer FINAL WHERE customer_hk IN ${keysOf('assumeNotNull(customer_hk)', cust)}`,
      'marts.dim_time': `SELECT count() FROM marts.dim_time FINAL WHERE time_hk IN ${keysOf('time_hk')}`,
      'marts.dim_country': `SELECT count() FROM marts.dim_country FINAL WHERE country_hk IN ${keysOf('country_hk')}`,
      'marts.fact_sales': `SELECT count() FROM marts.fact_sales WHERE ${day}`,
      'marts.fact_sale_returns': `SELECT count() FROM marts.fact_sale_returns WHERE ${day}`,
      'quality.data_quality': `SELECT count() FROM quality.data_quality WHERE ${day}`,
      'quality.sales_summary': `SELECT count() FROM quality.sales_summary WHERE ${day}`,
      'quality.line_issues': `SELECT count() FROM quality.line_issues WHERE ${day}`,
    };
    const sql = `SELECT ${Object.entries(slice).map(([name, q]) => `(${q}) AS \`${name}\``).join(', ')}`;
    const [counts] = await rt.services.warehouse.query<Record<string, number | string>>(sql);

    const { app, url } = await startApi(rt, async () => ({ role: 'view', name: 'test' }));
    try {
      type Item = { name: string; step: string; upstream: string[]; downstream: string[]; latest: { runId: string; partition: string | null; rows: number; at: string } | null };
      const { items } = await (await fetch(`${url}/api/v1/assets`)).json() as { items: Item[] };
      const retail = new Map(items.filter((a) => Object.hasOwn(slice, a.name) || a.step === 'vault' || a.step === 'marts').map((a) => [a.name, a]));
      assert.deepEqual([...retail.keys()].sort(), Object.keys(slice).sort(), 'one asset per retail table');
      for (const [name, a] of retail) {
        assert.equal(a.latest?.runId, dayRun, name);
        assert.equal(a.latest?.partition, '2010-12-01', name);
        assert.equal(a.latest?.rows, Number(counts[name]), `${name}: materialized rows vs SELECT count()`);
        assert.ok(Number.isFinite(Date.parse(a.latest!.at)), name);
      }
      assert.ok(Number(counts['vault.hub_product']) > 1000 && Number(counts['marts.fact_sales']) === 1_942);

      const one = (name: string) => retail.get(name)!;
      assert.deepEqual(one('staging.online_retail').upstream, ['raw.online_retail']);
      assert.deepEqual([one('quality.quarantine').upstream, one('quality.quarantine').downstream], [[], []]);
      assert.ok(!one('staging.online_retail').upstream.includes('quality.quarantine'));
      for (const hub of ['invoice', 'product', 'customer', 'time', 'country']) {
        assert.ok(one('marts.fact_sales').upstream.includes(`vault.hub_${hub}`), hub);
        assert.deepEqual(one(`vault.hub_${hub}`).upstream, ['staging.online_retail']);
      }
      assert.ok(one('marts.fact_sales').upstream.includes('vault.sat_invoice_line'));
      assert.deepEqual(one('marts.dim_customer').upstream.sort(),
        ['vault.hub_country', 'vault.hub_customer', 'vault.link_customer_country', 'vault.sat_invoice_line']);
      assert.ok(one('marts.fact_sales').downstream.includes('quality.sales_summary'));
      const lineage = await (await fetch(`${url}/api/v1/lineage`)).json() as { edges: { from: string; to: string }[] };
      assert.ok(!lineage.edges.some((e) => e.from === 'quality.quarantine'));
      assert.ok(lineage.edges.some((e) => e.from === 'vault.hub_product' && e.to === 'marts.dim_product'));

      // The OpenAPI document describes what the list gives.
      const doc = await (await fetch(`${url}/api/v1/openapi.json`)).json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      const item = doc.paths['/api/v1/assets'].get.responses['200'].content['application/json'].schema.properties.items.items;
      for (const field of ['upstream', 'downstream', 'latest']) assert.ok(item.properties[field], field);
    } finally {
      await app.close();
    }
  });

  test('a partition without data ends no_data and skips everything downstream; with emptyDay=error its check fails it', async () => {
    const empty = await (await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-04' })).done;
    assert.equal(empty.run.status, 'no_data', empty.run.error ?? '');
    assert.match(empty.run.error ?? '', /^no rows for 2010-12-04 in .*online-retail\/ \(20 files, 42,481 rows of other days\)$/);
    assert.deepEqual(Object.fromEntries(empty.steps.map((s) => [s.step, s.status])),
      { schema: 'succeeded', raw: 'no_data', staging: 'skipped', vault: 'skipped', marts: 'skipped', quality: 'skipped' });
    assert.match(empty.steps.find((s) => s.step === 'quality')?.reason ?? '', /^upstream step raw had no data$/);
    assert.deepEqual(await retailCounts(rt), full);

    const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-04', params: { emptyDay: 'error' } });
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
      // Saturdays have no trading: their runs end no_data, and nothing fails.
      assert.deepEqual(byStatus.no_data?.map((p) => p.partition), ['2010-12-04', '2010-12-11', '2010-12-18']);
      assert.equal(byStatus.failed, undefined);
      const counts = await retailCounts(bf);
      assert.deepEqual(counts, full);
    } finally {
      await bf.close();
      second.cleanup();
      rt = await openTestRuntime(dir.home);
    }
  });
});
