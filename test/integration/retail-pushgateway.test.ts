import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';
import { service } from '../helpers/services.ts';

const dir = tempHome();
after(() => dir.cleanup());

test('a retail run pushes its gauges to a real Pushgateway', async (t) => {
  const url = await service('pushgateway', t);
  if (!url) return;
  // The group is keyed by pipeline; clear what an earlier run left.
  await fetch(`${url}/metrics/job/sluice/pipeline/retail`, { method: 'DELETE' });
  const rt = await openTestRuntime(dir.home, { env: { SLUICE_PUSHGATEWAY_URL: url } });
  try {
    const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-01' });
    assert.equal((await done).run.status, 'succeeded');
  } finally {
    await rt.close();
  }
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => {
    const m = new RegExp(`^${name}\\{[^}]*pipeline="retail"[^}]*\\} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `${name} not on the Pushgateway`);
    return Number(m[1]);
  };
  assert.equal(value('anomaly_unit_price_count'), 9);
  assert.equal(value('missing_customer_id_ratio').toFixed(5), '0.36680');
  assert.equal(value('latest_min_total_amount'), 0.29);
  assert.equal(value('latest_max_total_amount'), 1627.2);
  assert.equal(Math.round(value('latest_median_total_amount') * 100) / 100, 11.4);
  assert.equal(Math.round(value('latest_sales_volume') * 100) / 100, 46_376.49);
  assert.ok(Number.isFinite(value('latest_avg_total_amount')));
  assert.equal(value('anomaly_quantity_count'), 0);
  await fetch(`${url}/metrics/job/sluice/pipeline/retail`, { method: 'DELETE' });
});
