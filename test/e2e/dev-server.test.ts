import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { tempHome } from '../helpers/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
let server: DevServer;

function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

before(async () => {
  server = await startServerProcess(['--home', dir.home, 'dev', '--port', '0']);
});
after(async () => {
  await server?.stop();
  dir.cleanup();
});

test('sluice dev listens on loopback in local-dev mode and loads the demo data once, one run per day', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const id = /loading the retail sample in the background \(backfill ([0-9a-f-]{36}), 23 days\)/.exec(server.output())?.[1];
  assert.ok(id, server.output());
  let backfill: { status: string; counts: { succeeded: number; noData: number; failed: number } } = { status: 'running', counts: { succeeded: 0, noData: 0, failed: 0 } };
  for (let i = 0; i < 900 && backfill.status === 'running'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    backfill = (await (await fetch(`${server.url}/api/v1/backfills/${id}`)).json()) as typeof backfill;
  }
  assert.match(server.output(), /local-dev mode/);
  assert.equal(backfill.status, 'succeeded');
  // The sample's 20 days of sales, and the three Saturdays the shop was shut.
  assert.deepEqual([backfill.counts.succeeded, backfill.counts.noData, backfill.counts.failed], [20, 3, 0]);
  const runs = (await (await fetch(`${server.url}/api/v1/runs?pipeline=retail&limit=100`)).json()) as { items: { backfillId: string | null }[] };
  assert.equal(runs.items.length, 23);
  assert.ok(runs.items.every((r) => r.backfillId === id));
  for (let i = 0; i < 100 && !/demo data: the retail sample is loaded \(backfill/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(server.output(), /demo data: the retail sample is loaded \(backfill [0-9a-f-]{36}: 20 days, 3 without sales, [\d.]+ s\)/);
  assert.ok(existsSync(join(dir.home, 'server.json')));
});

test('CLI commands act through the server while it owns the state directory', async () => {
  const run = await sluice(['run', 'retail', '--partition', '2010-12-02', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const s = JSON.parse(run.stdout);
  assert.equal(s.status, 'succeeded');
  assert.equal(s.steps.find((x: { name: string }) => x.name === 'raw').rowsWritten, 2_109);
  assert.deepEqual(s.steps.find((x: { name: string }) => x.name === 'raw').checks.map((c: { check: string }) => c.check), ['raw_not_empty']);
  const q = await sluice(['query', 'SELECT count() AS n FROM marts.fact_sales', '--format', 'json']);
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual(JSON.parse(q.stdout), [{ n: 26_160 }]);
  const runs = await sluice(['runs', '--json']);
  assert.equal(JSON.parse(runs.stdout)[0].id, s.runId);
  const bf = await sluice(['backfill', 'retail', '--from', '2010-12-03', '--to', '2010-12-04', '--json']);
  assert.equal(bf.code, 0, bf.stderr);
  const backfill = JSON.parse(bf.stdout);
  assert.deepEqual(backfill.partitions.map((p: { status: string }) => p.status), ['succeeded', 'no_data']);
  assert.deepEqual([backfill.succeeded, backfill.noData, backfill.failed], [1, 1, 0]);
  const bad = await sluice(['run', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /pipeline not found: nope/);
});

test('sluice ping gets a pong from every warm worker; sluice stop ends a running run', async () => {
  const ping = await sluice(['ping', '--json']);
  assert.equal(ping.code, 0, ping.stderr);
  const pongs = JSON.parse(ping.stdout) as { workerId: string; rttMs: number }[];
  assert.equal(pongs.length, 2);
  assert.ok(pongs.every((p) => p.rttMs >= 0));
  const one = await sluice(['ping', '--worker', pongs[0].workerId, '--json']);
  assert.deepEqual(JSON.parse(one.stdout).map((p: { workerId: string }) => p.workerId), [pongs[0].workerId]);
  const nobody = await sluice(['ping', '--worker', 'nope', '--wait', '200']);
  assert.equal(nobody.code, 2);
  assert.match(nobody.stderr, /worker nope did not answer/);
  const started = (await (await fetch(`${server.url}/api/v1/runs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'dummy', allPartitions: true, params: { records: 100000, rate: 1000 } }),
  })).json()) as { id: string };
  for (let i = 0; i < 200; i++) {
    const d = (await (await fetch(`${server.url}/api/v1/runs/${started.id}`)).json()) as { steps: { status: string }[] };
    if (d.steps.some((s) => s.status === 'running')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = await sluice(['stop', started.id]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`run ${started.id} cancelled`));
});

test('npm start streams market-live from the replay server at once; sluice streams shows it, sluice stop ends it cleanly', async () => {
  const runId = /market-live streams the recorded spot capture from sluice replay binance on http:\/\/127\.0\.0\.1:\d+ \(run ([0-9a-f-]{36});/.exec(server.output())?.[1];
  assert.ok(runId, server.output());
  type Stream = { stream: string; state: string; lag: number; runId: string | null; counters: Record<string, number>; partitions: unknown[] };
  let items: Stream[] = [];
  for (let i = 0; i < 300; i++) {
    items = ((await (await fetch(`${server.url}/api/v1/streams?pipeline=market-live`)).json()) as { items: Stream[] }).items;
    const connect = items.find((x) => x.stream === 'market-live.connect');
    if (connect?.state === 'running' && (connect.counters.records_out ?? 0) > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const feed = items.find((x) => x.stream === 'market-live.feed')!;
  const connect = items.find((x) => x.stream === 'market-live.connect')!;
  assert.equal(feed.state, 'running', JSON.stringify(items));
  assert.equal(connect.state, 'running');
  assert.equal(feed.runId, runId);
  assert.ok((feed.counters.depth_updates ?? 0) > 0 && (connect.counters.records_out ?? 0) > 0, JSON.stringify(items));
  assert.ok(connect.partitions.length > 0, 'the connector reports its partitions');
  const listed = await sluice(['streams']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /market-live\.connect\s+running/);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /sluice_stream_running\{pipeline="market-live",step="feed"\} 1/);
  assert.match(metrics, /sluice_stream_records_total\{counter="records_out",pipeline="market-live",step="connect"\} [1-9]/);
  assert.match(metrics, /sluice_stream_lag\{partition="\d+",pipeline="market-live",step="connect",topic="sluice\.data\.book-snapshots"\} \d+/);
  const stopped = await sluice(['stop', runId]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, new RegExp(`run ${runId} succeeded`));
  const after = ((await (await fetch(`${server.url}/api/v1/streams?pipeline=market-live`)).json()) as { items: Stream[] }).items;
  assert.deepEqual(after.map((x) => x.state), ['stopped', 'stopped']);
  const rows = await sluice(['query', 'SELECT count() AS n FROM market.book_snapshots']);
  assert.equal(rows.code, 0, rows.stderr);
  assert.match(rows.stdout, /\b[1-9]\d*\b/);
});

test('local-dev mode answers only loopback Host headers and refuses cross-origin writes (DNS rebinding)', async () => {
  const { port } = new URL(server.url);
  const call = (method: string, path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(method === 'POST' ? '{"pipeline":"nope"}' : undefined);
    });
  assert.equal(await call('GET', '/api/v1/runs', { host: `localhost:${port}` }), 200);
  assert.equal(await call('GET', '/api/v1/runs', { host: `rebound.example:${port}` }), 403);
  assert.equal(await call('POST', '/api/v1/runs', { host: `127.0.0.1:${port}`, origin: 'http://rebound.example' }), 403);
  assert.equal(await call('POST', '/api/v1/runs', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }), 404, 'same origin reaches the route');
});

test('a second server on the same state directory is refused', async () => {
  const second = await sluice(['dev', '--port', '0']);
  assert.equal(second.code, 2);
  assert.match(second.stderr, /already owns/);
});

test('SIGTERM stops the server and releases the state directory', async () => {
  assert.equal(await server.stop(), 0);
  assert.ok(!existsSync(join(dir.home, 'server.json')));
  const q = await sluice(['query', 'SELECT count() AS n FROM marts.fact_sales', '--format', 'json']);
  assert.deepEqual(JSON.parse(q.stdout), [{ n: 26_160 }]);
});
