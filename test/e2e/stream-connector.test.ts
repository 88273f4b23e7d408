import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../src/presets/runtime.ts';
import type { DataRecord } from '../../src/ports/data-topics.ts';
import { readAll } from '../contract/data-topics.contract.ts';
import { klineLine, klineLineSql, klineRecords } from '../helpers/kline-records.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';
import { until } from '../helpers/until.ts';

// The connector on the embedded stores (in-process data topics, chDB), on the committed
// ALGOUSDT February 2026 candles: everything good lands once, everything bad lands in the
// dead letters with its reason, and a second run continues where the first stopped.
const fixtures = fileURLToPath(new URL('../fixtures/stream-pipelines/', import.meta.url));
const TOPIC = 'sluice.data.test-klines';
const DLQ = 'sluice.dlq.klines-connect.connect';
const dir = tempHome();
let rt: Runtime;

before(async () => {
  rt = await openTestRuntime(dir.home, { pipelines: [fixtures] });
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

const count = async (sql: string) => Number((await rt.services.warehouse.query<{ n: number }>(sql))[0]!.n);

/** Runs the connector until `ready`, then stops it as `sluice stop` does; returns the finished run. */
async function runUntil(ready: () => Promise<boolean>) {
  const { run, done } = await rt.coordinator.submit({ pipeline: 'klines-connect' });
  await until('the connector to catch up', ready);
  assert.ok(await rt.coordinator.cancel(run.id, 'stopped by the test'));
  return done;
}

const BAD = [
  { raw: 'not json {', reason: /^the record is not valid JSON/ },
  { raw: '[1, 2, 3]', reason: /^the record is not a JSON object$/ },
  { raw: 'trades-many', reason: /^trades: expected an integer \(UInt64\), got "many"$/ },
  { raw: 'open-9-places', reason: /^open: 0\.123456789 has 9 decimals, the column keeps 8$/ },
  { raw: 'no-close-time', reason: /^close_time: missing$/ },
];

test('a topic of real candles with five bad records: 40,320 rows once, five dead letters with reasons, offsets committed', async () => {
  const candles = klineRecords('ALGOUSDT');
  assert.equal(candles.length, 40_320);
  const template = candles[0]!;
  const badValue = (raw: string): string => {
    if (raw === 'trades-many') return JSON.stringify({ ...template, trades: 'many' });
    if (raw === 'open-9-places') return JSON.stringify({ ...template, open: '0.123456789' });
    if (raw === 'no-close-time') return JSON.stringify({ ...template, close_time: undefined });
    return raw;
  };
  // Bad records spread through the stream, each on the key of the candles around it.
  for (let i = 0; i < candles.length; i += 8_064) {
    const chunk = candles.slice(i, i + 8_064).map((c) => ({ key: c.symbol, value: JSON.stringify(c) }));
    const bad = BAD[i / 8_064]!;
    chunk.splice(100, 0, { key: 'ALGOUSDT', value: badValue(bad.raw) });
    await rt.services.topics.produce(TOPIC, chunk);
  }
  const detail = await runUntil(async () => (await count('SELECT count() AS n FROM stream_test.klines')) >= 40_320);
  assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.run));

  assert.equal(await count('SELECT count() AS n FROM stream_test.klines'), 40_320, 'no duplicate without FINAL');
  const rows = (await rt.services.warehouse.query<{ line: string }>(klineLineSql('stream_test.klines'))).map((r) => r.line);
  const expected = candles.map(klineLine);
  const first = rows.findIndex((r, i) => r !== expected[i]);
  assert.equal(first, -1, `row ${first}: ${rows[first]} vs CSV ${expected[first]}`);

  const dlqReader = await rt.services.topics.reader(DLQ, { from: [], otherwise: 'earliest', buffer: 100 });
  const dead: DataRecord[] = await readAll(dlqReader, 5);
  assert.deepEqual(await dlqReader.next(10, 200), [], 'five dead letters, no more');
  await dlqReader.close();
  const letters = dead.map((d) => JSON.parse(Buffer.from(d.value).toString()));
  for (const bad of BAD) {
    const letter = letters.find((l) => Buffer.from(l.raw, 'base64').toString() === badValue(bad.raw));
    assert.ok(letter, `a dead letter for ${bad.raw}`);
    assert.match(letter.reason, bad.reason);
    assert.equal(letter.connector, 'klines-connect.connect');
    assert.equal(letter.topic, TOPIC);
    assert.ok(Number.isInteger(letter.offset) && Number.isInteger(letter.partition), 'the source offset');
  }

  const ranges = await rt.services.topics.partitions(TOPIC);
  const offsets = await rt.services.metadata.streams.list('klines-connect.connect');
  assert.deepEqual(
    offsets.map((o) => [o.partition, o.offset, o.pendingEnd]).sort(),
    ranges.filter((r) => r.end > 0).map((r) => [r.partition, r.end, null]).sort(),
    'every partition committed to its end, nothing pending',
  );
  const events = await rt.services.metadata.runs.events({ runId: detail.run.id, limit: 1000 });
  assert.equal(events.filter((e) => e.type === 'log' && String(e.payload.message).startsWith('dead letter')).length, 5, 'each dead letter is logged with the run');
  const materialized = await rt.services.metadata.assets.latest(['stream_test.klines']);
  assert.equal(materialized[0]?.rows, 40_320);
  assert.equal(materialized[0]?.metadata.dead_letters, 5);
});

test('a second run starts from the committed offsets: only the new candles are written, nothing twice', async () => {
  const dot = klineRecords('DOTUSDT').slice(0, 1_000);
  await rt.services.topics.produce(TOPIC, dot.map((c) => ({ key: c.symbol, value: JSON.stringify(c) })));
  const detail = await runUntil(async () => (await count('SELECT count() AS n FROM stream_test.klines')) >= 41_320);
  assert.equal(detail.run.status, 'succeeded');
  assert.equal(await count('SELECT count() AS n FROM stream_test.klines'), 41_320);
  assert.equal(await count('SELECT count() AS n FROM stream_test.klines FINAL'), 41_320);
  assert.equal(await count("SELECT count() AS n FROM stream_test.klines WHERE symbol = 'DOTUSDT'"), 1_000);
  const materialized = await rt.services.metadata.assets.latest(['stream_test.klines']);
  assert.equal(materialized[0]?.rows, 1_000, 'this run wrote only the new ones');
  const reader = await rt.services.topics.reader(DLQ, { from: [], otherwise: 'earliest', buffer: 100 });
  assert.equal((await readAll(reader, 5)).length, 5);
  assert.deepEqual(await reader.next(10, 200), [], 'no dead letter written again');
  await reader.close();
});

test('a new process (the embedded topics start again at offset 0): the offsets past their ends are read from the start, and the new candles land', async () => {
  await rt.close();
  rt = await openTestRuntime(dir.home, { pipelines: [fixtures] });
  const before = await rt.services.metadata.streams.list('klines-connect.connect');
  const link = klineRecords('LINKUSDT').slice(0, 500);
  // On ALGOUSDT's key: the partition the first test committed 40,325 records of.
  await rt.services.topics.produce(TOPIC, link.map((c) => ({ key: 'ALGOUSDT', value: JSON.stringify(c) })));
  const [part] = (await rt.services.topics.partitions(TOPIC)).filter((r) => r.end > 0);
  assert.ok((before.find((o) => o.partition === part!.partition)?.offset ?? 0) > part!.end, 'the stored offset is past the new end');
  const detail = await runUntil(async () => (await count("SELECT count() AS n FROM stream_test.klines WHERE symbol = 'LINKUSDT'")) >= 500);
  assert.equal(detail.run.status, 'succeeded');
  assert.equal(await count('SELECT count() AS n FROM stream_test.klines'), 41_820, 'nothing lost, nothing twice');
  const events = await rt.services.metadata.runs.events({ runId: detail.run.id, limit: 1000 });
  assert.ok(events.some((e) => e.type === 'log' && /is past the partition's end 500: the topic started again/.test(String(e.payload.message))), 'the restart is logged');
  const after = await rt.services.metadata.streams.list('klines-connect.connect');
  assert.equal(after.find((o) => o.partition === part!.partition)?.offset, 500, 'committed at the new end');
});
