import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { ControlPlaneClient } from '../helpers/control-plane-client.ts';
import { tempHome } from '../helpers/runtime.ts';

// Process-level faults on the embedded preset: `sluice dev` with its warm worker pool.
// Heartbeats every 500 ms, so a dead worker is noticed after 1.5 s.
const dir = tempHome();
const env = { SLUICE_HEARTBEAT_MS: '500', SLUICE_WORKERS: '2' };
let server: DevServer;
let api: ControlPlaneClient;

async function start(): Promise<void> {
  server = await startServerProcess(['--home', dir.home, 'dev', '--port', '0'], env);
  api = new ControlPlaneClient(server.url);
}

before(async () => {
  await start();
  // The demo load runs first; wait for it so the tables are in their known state.
  for (;;) {
    const { items } = await api.call<{ items: { id: string; finishedAt: string | null }[] }>('GET', '/api/v1/runs?pipeline=retail');
    if (items[0]?.finishedAt) break;
    await new Promise((r) => setTimeout(r, 200));
  }
});
after(async () => {
  await server?.stop();
  dir.cleanup();
});

test('kill -9 of a worker in the middle of a dummy step: attempt lost, retried, run succeeds', async (t) => {
  const { id } = await api.startRun('dummy', { records: 3000, rate: 1500 });
  const victim = await api.runningAttempt(id, (a) => a.step === 'load');
  await new Promise((r) => setTimeout(r, 300));
  const killedAt = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  const d = await api.waitRun(id);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d));
  const attempts = d.attempts.filter((a) => a.step === victim.step);
  assert.deepEqual(attempts.map((a) => a.status), ['lost', 'succeeded']);
  const lostAt = Date.parse(attempts[0].finishedAt!);
  const rerunAt = Date.parse(attempts[1].startedAt);
  t.diagnostic(`noticed ${lostAt - killedAt} ms after kill -9, running again ${rerunAt - killedAt} ms after (heartbeat 500 ms)`);
  const out = JSON.parse(readFileSync(join(dir.home, 'objects', 'dummy', id, 'all.json'), 'utf8'));
  assert.equal(out.count, 3000);
  assert.equal(out.records.length, 3000);
  const { items } = await api.call<{ items: { alive: boolean; restarts: number }[] }>('GET', '/api/v1/workers');
  assert.ok(items.every((w) => w.alive));
  assert.equal(items.reduce((n, w) => n + w.restarts, 0), 1);
});

test('kill -9 of a worker in the middle of a retail step: nothing lost, nothing doubled', async () => {
  await api.killWorkerMidRetail();
});

test('kill -9 of the control plane during a run, then restart: the run finishes', async () => {
  const { id } = await api.startRun('retail');
  await api.runningAttempt(id, (a) => a.step === 'staging' || a.step === 'vault' || a.step === 'raw');
  server.child.kill('SIGKILL');
  await new Promise((r) => server.child.once('exit', r));
  await start();
  const d = await api.waitRun(id);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d.run));
  assert.ok(d.attempts.some((a) => a.status === 'lost'), 'the attempt that died with the control plane is marked lost');
  await api.assertRetailTotals();
});
