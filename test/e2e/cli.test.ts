import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempHome } from '../helpers/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
after(() => dir.cleanup());

/** Runs the real CLI in its own process, as a user would. */
function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 180_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let runId = '';

test('sluice run retail --all-partitions --json prints one summary with per-step status, rows and checks', async () => {
  const r = await sluice(['run', 'retail', '--all-partitions', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  runId = s.runId;
  assert.equal(s.status, 'succeeded');
  assert.equal(s.quarantined, 0);
  assert.deepEqual(s.steps.map((x: { name: string }) => x.name), ['schema', 'raw', 'staging', 'vault', 'marts', 'quality']);
  const raw = s.steps.find((x: { name: string }) => x.name === 'raw');
  assert.equal(raw.rowsWritten, 42_481);
  assert.ok(raw.durationMs > 0);
  assert.deepEqual(raw.checks.map((c: { check: string; passed: boolean }) => [c.check, c.passed]), [['raw_not_empty', true]]);
  const quality = s.steps.find((x: { name: string }) => x.name === 'quality');
  assert.equal(quality.checks.length, 3);
});

test('a second process sees the history, the tables and the gauges', async () => {
  const runs = await sluice(['runs', '--json']);
  assert.equal(runs.code, 0, runs.stderr);
  assert.equal(JSON.parse(runs.stdout)[0].id, runId);
  const q = await sluice(['query', 'SELECT count() AS n FROM marts.fact_sales', '--format', 'json']);
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual(JSON.parse(q.stdout), [{ n: 26_160 }]);
  const csv = await sluice(['query', "SELECT toString(day) AS day, fact_lines FROM quality.sales_summary WHERE day = '2010-12-01'", '--format', 'csv']);
  assert.equal(csv.stdout.trim(), 'day,fact_lines\n2010-12-01,1942');
  const m = await sluice(['metrics']);
  assert.match(m.stdout, /^latest_sales_volume\{pipeline="retail"\} [\d.]+$/m);
  assert.match(m.stdout, /^anomaly_unit_price_count\{pipeline="retail"\} \d+$/m);
  const p = await sluice(['pipelines', '--json']);
  const listed = JSON.parse(p.stdout) as { pipelines: { name: string; file: string }[]; broken: unknown[] };
  assert.equal(listed.pipelines.find((x) => x.name === 'retail')?.file, 'pipelines/retail/index.ts');
  assert.deepEqual(listed.broken, []);
});

test('a failed run exits 1 (an empty day, with emptyDay=error); a partition rerun exits 0', async () => {
  const bad = await sluice(['run', 'retail', '--partition', '2010-12-04', '--param', 'emptyDay=error']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /failed/);
  assert.match(bad.stdout, /raw_not_empty/);
  const ok = await sluice(['run', 'retail', '--partition', '2010-12-02', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('errors name the problem and show no stack trace unless --verbose', async () => {
  const unknown = await sluice(['run', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /pipeline not found: nope \(known: .*retail/);
  assert.doesNotMatch(unknown.stderr, /\bat .*\.ts:\d+/);
  const param = await sluice(['run', 'retail', '--param', 'maxMissingCustomerRatio=lots']);
  assert.equal(param.code, 2);
  assert.match(param.stderr, /bad param maxMissingCustomerRatio/);
  const missing = await sluice(['run', 'retail', '--all-partitions', '--param', 'source=/nonexistent/sales.csv', '--json']);
  assert.equal(missing.code, 1);
  assert.match(JSON.parse(missing.stdout).error, /source not found: \/nonexistent\/sales\.csv/);
  const part = await sluice(['run', 'retail', '--partition', '2010-13-01']);
  assert.equal(part.code, 2);
  assert.match(part.stderr, /partition key "2010-13-01" is not a valid daily key/);
  const verbose = await sluice(['--verbose', 'run', 'nope']);
  assert.match(verbose.stderr, /at .*\.ts:\d+/);
});

test('backfill runs one run per partition', async () => {
  const r = await sluice(['backfill', 'retail', '--from', '2010-12-01', '--to', '2010-12-03', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.partitions.map((p: { partition: string; status: string }) => [p.partition, p.status]), [
    ['2010-12-01', 'succeeded'], ['2010-12-02', 'succeeded'], ['2010-12-03', 'succeeded'],
  ]);
  const q = await sluice(['query', 'SELECT count() AS n FROM marts.fact_sales', '--format', 'json']);
  assert.deepEqual(JSON.parse(q.stdout), [{ n: 26_160 }]);
});

test('usage errors exit 2 like every other error; help exits 0', async () => {
  const missing = await sluice(['backfill', 'retail', '--from', '2010-12-01']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--to <key>' not specified/);
  const unknown = await sluice(['runs', '--nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--nope'/);
  const help = await sluice(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: sluice/);
});

test('runs --pipeline of a pipeline nobody knows is an error listing the known ones', async () => {
  const r = await sluice(['runs', '--pipeline', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pipeline not found: nope \(known: always-fails, dummy, market-history, market-live, retail\)/);
});
