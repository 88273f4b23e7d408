import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../src/presets/runtime.ts';
import { startApi } from '../helpers/api.ts';
import { klineLine, klineLineSql, klineRecords } from '../helpers/kline-records.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';
import { until } from '../helpers/until.ts';

// A connector that scales on lag (klines-scale: up to 3 replicas, one per 10,000 records of
// lag) on the embedded stores, fed the four committed symbols' February 2026 candles at once:
// it goes to 3 replicas reading a partition each, back to 1 when the lag is gone, and every
// candle lands exactly once through both changes.
const fixtures = fileURLToPath(new URL('../fixtures/stream-pipelines/', import.meta.url));
const TOPIC = 'sluice.data.test-scale-klines';
const STREAM = 'klines-scale.connect';
const dir = tempHome();
let rt: Runtime;
let app: FastifyInstance;
let url: string;

before(async () => {
  rt = await openTestRuntime(dir.home, { pipelines: [fixtures], env: { SLUICE_SCALE_CHECK_MS: '200', SLUICE_HEARTBEAT_MS: '500' } });
  ({ app, url } = await startApi(rt, async () => ({ role: 'view', name: 'test' })));
});
after(async () => {
  await app?.close();
  await rt?.close();
  dir.cleanup();
});

const count = async (sql: string) => Number((await rt.services.warehouse.query<{ n: number }>(sql))[0]!.n);
const replicas = () => rt.coordinator.activeStreams().find((s) => s.stream === STREAM)?.replicas ?? 0;

test('a backlog scales the connector out to one replica per partition and, once read, back to one: every candle once', async () => {
  const candles = ['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT'].flatMap(klineRecords);
  assert.equal(candles.length, 161_280);
  // Keyed by candle, so each of the 3 partitions holds about a third of the backlog.
  for (let i = 0; i < candles.length; i += 20_000) {
    await rt.services.topics.produce(TOPIC, candles.slice(i, i + 20_000).map((c) => ({ key: `${c.symbol}/${c.open_time}`, value: JSON.stringify(c) })));
  }
  const ranges = await rt.services.topics.partitions(TOPIC);
  assert.equal(ranges.length, 3);
  assert.ok(ranges.every((r) => r.end > 40_000), JSON.stringify(ranges));

  const { run, done } = await rt.coordinator.submit({ pipeline: 'klines-scale' });
  let most = 0;
  const seen = setInterval(() => (most = Math.max(most, replicas())), 20);
  try {
    await until('3 replicas', () => replicas() === 3, 60_000);
    // While three run, the API shows them and each reads its own partition.
    const [api] = ((await (await fetch(`${url}/api/v1/streams?pipeline=klines-scale`)).json()) as { items: { replicas: number; partitions: unknown[] }[] }).items;
    assert.equal(api!.replicas, 3);
    assert.equal(api!.partitions.length, 3, 'the replicas report a partition each, merged');
    await until('every candle written', async () => (await count('SELECT count() AS n FROM stream_test.scale_klines')) >= candles.length, 120_000);
    await until('back to 1 replica', () => replicas() === 1, 60_000);
  } finally {
    clearInterval(seen);
  }
  assert.equal(most, 3, 'never more replicas than partitions');

  // After scaling in, the one replica reads all three partitions again.
  const more = klineRecords('DOTUSDT').slice(0, 3_000).map((c) => ({ ...c, open_time: c.open_time + 29 * 86_400_000, close_time: c.close_time + 29 * 86_400_000 }));
  await rt.services.topics.produce(TOPIC, more.map((c) => ({ key: `${c.symbol}/${c.open_time}`, value: JSON.stringify(c) })));
  await until('the new candles written', async () => (await count('SELECT count() AS n FROM stream_test.scale_klines')) >= candles.length + more.length, 60_000);
  assert.ok(await rt.coordinator.cancel(run.id, 'stopped by the test'));
  const detail = await done;
  assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.run));

  assert.equal(await count('SELECT count() AS n FROM stream_test.scale_klines'), candles.length + more.length, 'no candle twice (without FINAL)');
  assert.equal(await count('SELECT count() AS n FROM stream_test.scale_klines FINAL'), candles.length + more.length);
  const rows = (await rt.services.warehouse.query<{ line: string }>(klineLineSql('stream_test.scale_klines'))).map((r) => r.line);
  const expected = [...candles, ...more].map(klineLine).sort((a, b) => {
    const [sa, ta] = a.split(',');
    const [sb, tb] = b.split(',');
    return sa!.localeCompare(sb!) || Number(ta) - Number(tb);
  });
  const first = rows.findIndex((r, i) => r !== expected[i]);
  assert.equal(first, -1, `row ${first}: ${rows[first]} vs ${expected[first]}`);

  const ends = await rt.services.topics.partitions(TOPIC);
  const offsets = await rt.services.metadata.streams.list(STREAM);
  assert.deepEqual(offsets.map((o) => [o.partition, o.offset, o.pendingEnd]).sort(), ends.map((r) => [r.partition, r.end, null]).sort(), 'every partition committed to its end');

  const events = await rt.services.metadata.runs.events({ runId: run.id, limit: 10_000 });
  const scaled = events.filter((e) => e.type === 'stream.scaled').map((e) => [e.payload.from, e.payload.to]);
  assert.deepEqual(scaled.at(0), [1, 3], JSON.stringify(scaled));
  assert.deepEqual(scaled.at(-1), [3, 1], JSON.stringify(scaled));
  const rescaling = events.find((e) => e.type === 'stream.rescaling');
  assert.ok(Number(rescaling?.payload.lag) > 20_000, `scaled out on a lag of ${rescaling?.payload.lag}`);
  // The replicas are steps of the run, each with its own attempts; all ended succeeded.
  const steps = Object.fromEntries(detail.steps.map((s) => [s.step, s.status]));
  assert.deepEqual(steps, { schema: 'succeeded', connect: 'succeeded', 'connect[1]': 'succeeded', 'connect[2]': 'succeeded' });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /sluice_stream_replicas\{pipeline="klines-scale",step="connect"\} 0/);
});
