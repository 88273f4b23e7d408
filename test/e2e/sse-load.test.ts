import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken } from '../../src/server/auth/tokens.ts';
import { readSse } from '../helpers/api.ts';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';
import { openStalledClients, resumeUntilClosed, rssBytes, type StalledClient } from '../helpers/stalled-clients.ts';

// 300 clients that never read, against a server whose event history is far more than a
// socket's kernel buffers hold (~4 MB on loopback). Without backpressure every one of them
// piles the rest of the history up in the server's memory; with it they cost a bounded
// buffer each, are cut off after `stallMs`, and the health endpoints keep answering.
const CLIENTS = 300;
const MAX_STREAMS = 250;
const EVENTS = 8_000;
const PAYLOAD = 'x'.repeat(900);
const STALL_MS = 3_000;
const MiB = 1 << 20;

const dir = tempHome();
let server: DevServer;
let token: string;
let clients: StalledClient[] = [];

const auth = () => ({ authorization: `Bearer ${token}` });

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const get = (path: string) => fetch(`${server.url}${path}`, { headers: auth(), signal: AbortSignal.timeout(30_000) });

async function metric(name: string): Promise<number> {
  const text = await (await get('/metrics')).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

before(async () => {
  // The history is written before the server starts: PGlite has one owner at a time.
  const rt = await openTestRuntime(dir.home);
  try {
    token = (await issueToken(rt.services.metadata.tokens, { role: 'edit', name: 'load' })).token;
    const { run, done } = await rt.coordinator.submit({ pipeline: 'dummy', allPartitions: true, params: { records: 10, rate: 1000 } });
    await done;
    for (let i = 0; i < EVENTS; i += 500) {
      const events = Array.from({ length: 500 }, (_, j) => ({
        runId: run.id, type: 'log', step: 'load', attemptId: null, ts: new Date().toISOString(), payload: { level: 'info', message: `${i + j} ${PAYLOAD}` },
      }));
      await rt.services.metadata.write({ events });
    }
  } finally {
    await rt.close();
  }
  const config = join(dir.home, 'config.json');
  writeFileSync(config, JSON.stringify({ sse: { stallMs: STALL_MS, maxStreamsPerToken: 1000, maxStreams: MAX_STREAMS } }));
  server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', '0'], { SLUICE_CONFIG: config, SLUICE_WORKERS: '1' });
});

after(async () => {
  for (const c of clients) c.socket.destroy();
  await server?.stop();
  dir.cleanup();
});

test(`${CLIENTS} clients that never read: bounded memory, health answers, streams closed or refused`, async () => {
  const pid = server.child.pid!;
  // Warm up what a first stream and a first request allocate, so the baseline is fair.
  const warm = await get('/api/v1/events?after=0');
  assert.equal((await readSse(warm, (e) => Number(e.id) >= 500)).length, 500);
  assert.equal((await get('/healthz')).status, 200);
  await new Promise((r) => setTimeout(r, 500));
  const baseline = rssBytes(pid);

  const live = await (await fetch(`${server.url}/api/v1/runs`, {
    method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'dummy', allPartitions: true, params: { records: 1500, rate: 150 } }),
  })).json() as { id: string };

  // ?from=0: the whole history, which is what piles up for a client that does not read.
  clients = await openStalledClients(server.url, '/api/v1/events?from=0', auth(), CLIENTS);
  const accepted = clients.filter((c) => c.status === 200);
  const refused = clients.filter((c) => c.status !== 200);
  assert.equal(accepted.length, MAX_STREAMS);
  assert.equal(refused.length, CLIENTS - MAX_STREAMS);
  for (const c of refused) {
    assert.equal(c.status, 503, c.head);
    assert.match(c.head, /^retry-after: \d+$/im);
    c.socket.destroy();
  }

  let peak = baseline;
  let slowestHealth = 0;
  let slowestOther = 0;
  const deadline = Date.now() + 90_000;
  let open = MAX_STREAMS;
  for (let i = 0; Date.now() < deadline; i++) {
    const h = await timed(() => get('/healthz'));
    assert.equal(h.value.status, 200);
    slowestHealth = Math.max(slowestHealth, h.ms);
    peak = Math.max(peak, rssBytes(pid));
    if (i % 5 === 0) {
      const r = await timed(() => get('/readyz'));
      assert.equal(r.value.status, 200);
      const p = await timed(() => fetch(`${server.url}/api/v1/runs`, {
        method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'dummy', allPartitions: true, params: { records: 1 } }), signal: AbortSignal.timeout(30_000),
      }));
      assert.equal(p.value.status, 201);
      slowestOther = Math.max(slowestOther, r.ms, p.ms);
      open = await metric('sluice_sse_streams');
      if (open === 0) break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const growth = peak - baseline;
  console.log(`${CLIENTS} stalled clients: RSS ${(baseline / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(0)}), slowest /healthz ${slowestHealth.toFixed(0)} ms, slowest /readyz or POST /runs ${slowestOther.toFixed(0)} ms`);
  assert.equal(open, 0, 'the server closed every stream of a client that did not read');
  assert.ok(await metric('sluice_sse_overflows_total') >= MAX_STREAMS);
  assert.equal(await metric('sluice_sse_refused_total'), CLIENTS - MAX_STREAMS);
  assert.ok(slowestHealth < 2_000, `/healthz took ${slowestHealth} ms`);
  assert.ok(slowestOther < 5_000, `/readyz or POST /runs took ${slowestOther} ms`);
  assert.ok(growth < 300 * MiB, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`);

  // Whatever the kernel still holds for them is theirs to read; then the connection is over.
  assert.equal(await resumeUntilClosed(accepted, 20_000), 0, 'every stalled client saw its connection end');
  // A client that comes back resumes where it likes, and gets live events too.
  const resumed = await get(`/api/v1/runs/${live.id}/events`);
  const events = await readSse(resumed, (e) => e.event === 'end');
  assert.equal(events.at(-1)?.event, 'end');
});
