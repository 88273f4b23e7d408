import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { createPushgatewayPusher } from '../../src/adapters/prometheus/pushgateway-pusher.ts';
import type { ActiveRun } from '../../src/runtime/active-run.ts';
import { MetricsPush } from '../../src/runtime/metrics-push.ts';
import { RunQueue } from '../../src/runtime/run-queue.ts';
import type { RunUpdate } from '../../src/runtime/run-updates.ts';
import { service } from '../helpers/services.ts';

const queued = (id: string, pipeline: string, concurrency: number | null) =>
  ({ record: { id, status: 'queued' }, def: { name: pipeline, concurrency } }) as unknown as ActiveRun;

test('the run queue admits oldest first within the global and the per-pipeline limits', () => {
  const q = new RunQueue(3);
  const [a1, a2, b1, c1, c2] = [queued('a1', 'a', 1), queued('a2', 'a', 1), queued('b1', 'b', null), queued('c1', 'c', null), queued('c2', 'c', null)];
  for (const r of [a1, a2, b1, c1, c2]) q.push(r);
  const running: ActiveRun[] = [];
  const take = () => {
    const r = q.take(running);
    if (r) running.push(r);
    return r?.record.id;
  };
  // a2 waits for a1 (concurrency 1) but does not hold b1 back; the fourth start waits for the global limit.
  assert.deepEqual([take(), take(), take(), take()], ['a1', 'b1', 'c1', undefined]);
  running.splice(running.indexOf(a1), 1);
  assert.equal(take(), 'a2');
  running.splice(0, running.length);
  assert.equal(q.remove(c2), true);
  assert.equal(q.remove(c2), false);
  assert.equal(take(), undefined, 'a removed run is not started');
});

const ended = (pipeline: string, status: 'succeeded' | 'failed' | 'running'): RunUpdate =>
  ({ kind: 'run', runId: `r-${Math.random()}`, pipeline, status, error: null });

test('a run that ends pushes the metrics, grouped by pipeline, to a real Pushgateway', async (t) => {
  const url = await service('pushgateway', t);
  if (!url) return;
  const group = `${url}/metrics/job/sluice/pipeline/push-unit`;
  await fetch(group, { method: 'DELETE' });
  const metrics = createPromMetrics();
  const push = new MetricsPush(createPushgatewayPusher({ url }), metrics, { debug() {}, info() {}, warn() {}, error() {} });
  metrics.setGauge('push_unit_value', 'a value', {}, 7);
  push.listener(ended('push-unit', 'running'));
  await push.close();
  assert.doesNotMatch(await (await fetch(`${url}/metrics`)).text(), /push_unit_value/, 'a run that starts pushes nothing');
  push.listener(ended('push-unit', 'succeeded'));
  await push.close();
  assert.match(await (await fetch(`${url}/metrics`)).text(), /^push_unit_value\{[^}]*pipeline="push-unit"[^}]*\} 7$/m);
  await fetch(group, { method: 'DELETE' });
});

test('runs that end while a push waits share it, and a failed push is logged and counted', async () => {
  const metrics = createPromMetrics();
  const warned: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (_: object | string, msg?: string) => void warned.push(msg ?? '') };
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const push = new MetricsPush(createPushgatewayPusher({ url: 'http://127.0.0.1:1' }), metrics, logger);
  for (let i = 0; i < 3; i++) push.listener(ended('p', 'failed'));
  push.listener(ended('q', 'succeeded'));
  await push.close();
  assert.deepEqual(warned, ['could not push metrics to the Pushgateway', 'could not push metrics to the Pushgateway']);
  const text = await metrics.render();
  assert.match(text, /^sluice_metrics_push_failures_total\{pipeline="p"\} 1$/m);
  assert.match(text, /^sluice_metrics_push_failures_total\{pipeline="q"\} 1$/m);
});
