import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { createClickHouseServerWarehouse } from '../../src/adapters/clickhouse/clickhouse-server-warehouse.ts';
import { createKafkaDataTopics } from '../../src/adapters/kafka/kafka-data-topics.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { ControlPlaneClient } from '../helpers/control-plane-client.ts';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { klineLine, klineLineSql, klineRecords } from '../helpers/kline-records.ts';
import { tempHome } from '../helpers/runtime.ts';
import { service } from '../helpers/services.ts';

// The connector on a real Kafka broker and a real ClickHouse server, its attempt in a warm
// worker process: kill -9 of that process while it writes, the health monitor restarts the
// stream from its committed offsets, and the table ends with every candle exactly once.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/stream-pipelines/', import.meta.url));
const dir = tempHome();
const prefix = `t_${randomUUID().replace(/-/g, '').slice(0, 10)}.`;
let kafka: string | undefined;
let clickhouse: string | undefined;
let server: DevServer | undefined;
let warehouse: Warehouse;

before(async () => {
  kafka = await service('kafka');
  clickhouse = await service('clickhouse');
  if (!kafka || !clickhouse) return;
  warehouse = createClickHouseServerWarehouse({ url: clickhouse });
  await warehouse.command('DROP DATABASE IF EXISTS stream_test SYNC');
});
after(async () => {
  await server?.stop();
  if (warehouse) {
    await warehouse.command('DROP DATABASE IF EXISTS stream_test SYNC').catch(() => undefined);
    await warehouse.close();
  }
  if (kafka) {
    const admin = new Admin({ clientId: 'stream-faults-cleanup', bootstrapBrokers: [kafka] });
    const topics = (await admin.listTopics().catch(() => [])).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.close();
  }
  dir.cleanup();
});

const count = async (sql: string) => Number((await warehouse.query<{ n: number }>(sql))[0]!.n);
const rows = () => count('SELECT count() AS n FROM stream_test.klines').catch(() => 0);

test('Kafka + ClickHouse: kill -9 of the connector\'s worker mid-stream, restarted from its offsets: every candle once', async (t) => {
  if (!kafka || !clickhouse) return t.skip('Kafka or ClickHouse not installed');
  const env = {
    SLUICE_KAFKA_BROKERS: kafka, SLUICE_KAFKA_TOPIC_PREFIX: prefix, SLUICE_WAREHOUSE_URL: clickhouse,
    SLUICE_HEARTBEAT_MS: '500', SLUICE_WORKERS: '2', SLUICE_PIPELINES: fixtures,
  };
  const { stdout } = await run(process.execPath, ['src/cli/main.ts', '--home', dir.home, 'token', 'create', '--role', 'edit', '--name', 'streams'], { cwd: root, env: { PATH: process.env.PATH, ...env } });
  server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', '0'], env);
  const api = new ControlPlaneClient(server.url, stdout.trim());

  const candles = ['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT'].flatMap(klineRecords);
  assert.equal(candles.length, 161_280);
  const topics = await createKafkaDataTopics({ bootstrap: [kafka], clientId: 'stream-faults', topicPrefix: prefix });
  t.after(() => topics.close());
  for (let i = 0; i < candles.length; i += 10_000) {
    await topics.produce('sluice.data.test-klines', candles.slice(i, i + 10_000).map((c) => ({ key: c.symbol, value: JSON.stringify(c) })));
  }

  const { id } = await api.startRun('klines-connect');
  const victim = await api.runningAttempt(id, (a) => a.step === 'connect');
  const deadline = Date.now() + 120_000;
  while ((await rows()) < 30_000) {
    assert.ok(Date.now() < deadline, 'the connector wrote 30,000 rows within 2 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const atKill = await rows();
  process.kill(victim.pid, 'SIGKILL');
  t.diagnostic(`killed the connector's worker (pid ${victim.pid}) with ${atKill} rows in the table`);
  assert.ok(atKill < candles.length, 'killed mid-stream');

  while ((await rows()) < candles.length) {
    assert.ok(Date.now() < deadline + 60_000, `all candles written after the restart (have ${await rows()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // A duplicate batch would show as more rows than candles; give a late one time to land.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await rows(), candles.length, 'no candle written twice (without FINAL)');
  assert.equal(await count('SELECT count() AS n FROM stream_test.klines FINAL'), candles.length);
  const lines = (await warehouse.query<{ line: string }>(klineLineSql('stream_test.klines'))).map((r) => r.line);
  const expected = candles.map(klineLine).sort();
  lines.sort();
  const first = lines.findIndex((l, i) => l !== expected[i]);
  assert.equal(first, -1, `row ${first}: ${lines[first]} vs CSV ${expected[first]}`);

  await api.call('POST', `/api/v1/runs/${id}/cancel`);
  const d = await api.waitRun(id);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d.run));
  const attempts = d.attempts.filter((a) => a.step === 'connect').map((a) => a.status);
  assert.equal(attempts[0], 'lost', `the killed attempt is lost: ${attempts}`);
  assert.equal(attempts.at(-1), 'succeeded', 'the restarted one stopped cleanly');
});
