import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** What scripts/schemathesis.sh exits with when Schemathesis is not installed. */
const NOT_INSTALLED = 3;
const TIMEOUT_MS = 15 * 60_000;

// Schemathesis over every operation of the API, against `sluice server` and `sluice dev`
// (scripts/schemathesis.sh). Off CI, a machine without it skips this test; with CI=true it
// fails, because a skipped conformance run must not look like a passing one.
test('Schemathesis finds no failure against sluice server and sluice dev', { timeout: TIMEOUT_MS + 60_000 }, async (t) => {
  // Its own process group, so that a timeout stops Schemathesis and both servers with it.
  const child = spawn('bash', ['scripts/schemathesis.sh', 'run'], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code === NOT_INSTALLED && process.env.CI !== 'true') {
    t.skip('Schemathesis is not installed here (bash scripts/schemathesis.sh install)');
    return;
  }
  assert.equal(code, 0, `scripts/schemathesis.sh run exited with ${code}:\n${out.slice(-20_000)}`);
  assert.match(out, /== schemathesis: server/);
  assert.match(out, /== schemathesis: dev/);
});
