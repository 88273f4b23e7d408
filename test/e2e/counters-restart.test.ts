import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { issueToken } from '../../src/server/auth/tokens.ts';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));
const dir = tempHome();
let server: DevServer | undefined;
after(async () => {
  await server?.stop();
  dir.cleanup();
});

const start = () => startServerProcess(['--home', dir.home, '--pipelines', fixtures, 'server', '--host', '127.0.0.1', '--port', '0'], { SLUICE_WORKERS: '1' });

test('counters survive a control-plane restart on the same state directory', async () => {
  // Written before the server starts: PGlite has one owner at a time.
  const rt = await openTestRuntime(dir.home, { pipelines: [fixtures] });
  const token = (await issueToken(rt.services.metadata.tokens, { role: 'edit', name: 'counters' })).token;
  await rt.close();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const runGate = async (url: string) => {
    const { id } = (await (await fetch(`${url}/api/v1/runs`, { method: 'POST', headers, body: JSON.stringify({ pipeline: 'gate', params: { flakyFailures: 1 } }) })).json()) as { id: string };
    for (let i = 0; i < 600; i++) {
      const d = (await (await fetch(`${url}/api/v1/runs/${id}`, { headers })).json()) as { run: { status: string; finishedAt: string | null } };
      if (d.run.finishedAt) return d.run.status;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  };
  const sample = async (url: string, series: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  const runs = 'sluice_runs_total{pipeline="gate",status="succeeded"}';
  const retries = 'sluice_attempt_retries_total{pipeline="gate",step="flaky"}';

  server = await start();
  assert.equal(await runGate(server.url), 'succeeded');
  assert.equal(await sample(server.url, runs), 1);
  assert.equal(await sample(server.url, retries), 1);
  assert.equal(await server.stop(), 0);

  server = await start();
  assert.equal(await sample(server.url, runs), 1, 'the total before any run of this process');
  assert.equal(await sample(server.url, retries), 1);
  assert.equal(await runGate(server.url), 'succeeded');
  assert.equal(await sample(server.url, runs), 2);
  assert.equal(await sample(server.url, retries), 2);
});
