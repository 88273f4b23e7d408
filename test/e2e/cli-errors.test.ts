import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempHome } from '../helpers/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = 'test/fixtures/pipelines/errors.ts';
const typeErrorLine = readFileSync(`${root}${fixture}`, 'utf8').split('\n').findIndex((l) => l.includes('// throws: TypeError')) + 1;
const dir = tempHome();
after(() => dir.cleanup());

/** The real CLI in its own process, with the test fixtures as pipelines. */
function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, '--pipelines', 'test/fixtures/pipelines', ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let failedRun = '';

test('sluice run shows the steps\' log lines, where the step threw, and why it was not retried', async () => {
  const r = await sluice(['run', 'errors', '--param', 'fail=type-error']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^ {2}\[talk\] hello from talk$/m);
  assert.doesNotMatch(r.stderr, /only with --verbose/);
  assert.match(r.stderr, /^ {2}boom: attempt 1 failed \(TypeError\)$/m);
  assert.match(r.stderr, new RegExp(`^ {4}at test/fixtures/pipelines/errors\\.ts:${typeErrorLine}:\\d+$`, 'm'));
  assert.doesNotMatch(r.stderr + r.stdout, /at run \(file:/, 'no stack without --verbose');
  const tail = r.stdout.trim().split('\n');
  assert.match(tail[0], /^errors: failed in [\d.]+ s, 0 rows written, 0 quarantined$/);
  assert.equal(tail[1], "reason: step boom failed: TypeError: Cannot read properties of undefined (reading 'total')");
  assert.match(tail[2], new RegExp(`^ {2}at test/fixtures/pipelines/errors\\.ts:${typeErrorLine}:\\d+$`));
  assert.equal(tail[3], 'not retried: attempt 3 was the last, retry policy allows 3 attempts');
  failedRun = /^run (\S+) failed/m.exec(r.stderr)?.[1] ?? '';
  assert.ok(failedRun);
});

test('with --verbose: the whole stack and the debug lines', async () => {
  const r = await sluice(['--verbose', 'run', 'errors', '--param', 'fail=non-retryable']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\[talk\] debug: only with --verbose/);
  assert.match(r.stderr, /^ {6}at run \(file:\/\/.*\/test\/fixtures\/pipelines\/errors\.ts:\d+:\d+\)$/m);
  assert.match(r.stdout, /^not retried: the file will not change between attempts, retry policy allows 3 attempts$/m);
});

test('sluice retry re-executes a failed run and names the run it retried', async () => {
  const r = await sluice(['retry', failedRun, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.parentRunId, s.rootRunId], [failedRun, failedRun]);
  assert.equal(s.steps.find((x: { name: string }) => x.name === 'talk').attempts, 0, 'what succeeded is reused');
});

test('small messages: a bad param names the value, a bad run id says so', async () => {
  const param = await sluice(['run', 'retail', '--param', 'maxMissingCustomerRatio=high']);
  assert.equal(param.code, 2);
  assert.match(param.stderr, /bad param maxMissingCustomerRatio: expected a number, got 'high'/);
  const stop = await sluice(['stop', 'not-a-uuid']);
  assert.equal(stop.code, 2);
  assert.match(stop.stderr, /^sluice: not a run id: "not-a-uuid"/);
  const retry = await sluice(['retry', 'not-a-uuid']);
  assert.match(retry.stderr, /not a run id/);
});

test('a partition key outside the range is refused by run and backfill unless --allow-out-of-range; a keyless retail run names the partitioning', async () => {
  const keyless = await sluice(['run', 'retail']);
  assert.equal(keyless.code, 2, keyless.stderr);
  assert.match(keyless.stderr, /pipeline "retail" is partitioned daily from 2010-12-01, with no end: pass --partition YYYY-MM-DD, or --all-partitions/);
  const run = await sluice(['run', 'retail', '--partition', '2999-01-01']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /partition key "2999-01-01" is in the future: the current open daily partition is \d{4}-\d{2}-\d{2} \(UTC\); pass --allow-out-of-range/);
  const early = await sluice(['run', 'retail', '--partition', '2010-11-30']);
  assert.equal(early.code, 2, early.stderr);
  assert.match(early.stderr, /partition key "2010-11-30" is before the first partition: pipeline "retail" is partitioned daily from 2010-12-01/);
  const backfill = await sluice(['backfill', 'retail', '--from', '2010-12-01', '--to', '2999-01-01']);
  assert.equal(backfill.code, 2, backfill.stderr);
  assert.match(backfill.stderr, /"2999-01-01" is in the future/);
  const malformed = await sluice(['run', 'retail', '--partition', '2010-02-30', '--allow-out-of-range']);
  assert.equal(malformed.code, 2, malformed.stderr);
  assert.match(malformed.stderr, /partition key "2010-02-30" is not a valid daily key \(YYYY-MM-DD\)/);
  // Allowed, it runs: the source has no such day, so the run ends no_data (exit 0), not refused.
  const allowed = await sluice(['run', 'retail', '--partition', '2999-01-01', '--allow-out-of-range', '--json']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual([JSON.parse(allowed.stdout).partition, JSON.parse(allowed.stdout).status], ['2999-01-01', 'no_data']);
});
