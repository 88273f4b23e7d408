import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSse } from '../helpers/api.ts';
import { useFixtureApi } from '../helpers/fixture-api.ts';
import { tempHome } from '../helpers/runtime.ts';

// 2010-12-04 is a Saturday: the shop was closed, and the committed sample has no file and no
// line of that day (checked below, not assumed).
const CLOSED = '2010-12-04';
const SAMPLE = fileURLToPath(new URL('../../data/online-retail/', import.meta.url));

test(`the sample really has no ${CLOSED}: no file of that day, and no line of it in the other files`, async () => {
  const files = readdirSync(SAMPLE).filter((f) => f.endsWith('.csv'));
  assert.equal(files.length, 20);
  assert.ok(!files.includes(`${CLOSED}.csv`));
  const { csvRecords } = await import('../../src/sdk/csv-records.ts');
  const { createReadStream } = await import('node:fs');
  let lines = 0;
  let friday = 0;
  for (const f of files) {
    for await (const r of csvRecords(createReadStream(`${SAMPLE}${f}`))) {
      if (r.fields[4]?.startsWith(CLOSED)) lines += 1;
      if (r.fields[4]?.startsWith('2010-12-03')) friday += 1;
    }
  }
  assert.equal(lines, 0);
  // The column is the one with the dates: the day before has its rows there.
  assert.equal(friday, 2_202);
});

describe('API: partition keys and the no-data outcome', () => {
  const api = useFixtureApi();
  const { call, waitRun } = api;

  test('POST /runs refuses a retail run without a key (400, naming the partitioning), out-of-range and future keys, unless told', async () => {
    const keyless = await call('POST', '/api/v1/runs', { pipeline: 'retail' });
    assert.equal(keyless.status, 400);
    assert.equal(keyless.body.code, 'validation');
    assert.equal(keyless.body.field, 'partition');
    assert.match(keyless.body.detail, /^pipeline "retail" is partitioned daily from 2010-12-01, with no end: pass --partition YYYY-MM-DD, or --all-partitions/);
    for (const [partition, why] of [['2010-11-30', /before the first partition/], ['2999-01-01', /is in the future/], ['2010-02-30', /not a valid daily key/]] as const) {
      const r = await call('POST', '/api/v1/runs', { pipeline: 'retail', partition });
      assert.equal(r.status, 400, partition);
      assert.match(r.body.detail, why);
    }
    const bf = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-11-29', to: '2010-12-01' });
    assert.equal(bf.status, 400);
    assert.match(bf.body.detail, /"2010-11-29" is before the first partition/);
    // With the override the run starts; the source has nothing of that day, so it ends no_data.
    const early = await call('POST', '/api/v1/runs', { pipeline: 'retail', partition: '2010-11-30', allowOutOfRange: true });
    assert.equal(early.status, 201, JSON.stringify(early.body));
    assert.equal((await waitRun(early.body.id)).run.status, 'no_data');
    const both = await call('POST', '/api/v1/runs', { pipeline: 'retail', partition: '2010-12-01', allPartitions: true });
    assert.equal(both.status, 400);
  });

  test(`a run of ${CLOSED} ends no_data in GET /runs/{id}, its events and the metrics`, async () => {
    const r = await call('POST', '/api/v1/runs', { pipeline: 'retail', partition: CLOSED });
    assert.equal(r.status, 201);
    const d = await waitRun(r.body.id);
    assert.equal(d.run.status, 'no_data');
    assert.match(d.run.error, new RegExp(`^no rows for ${CLOSED} in .*online-retail/ \\(20 files, 42,481 rows of other days\\)$`));
    const steps = Object.fromEntries(d.steps.map((s: { step: string; status: string; reason: string | null }) => [s.step, [s.status, s.reason]]));
    assert.deepEqual(steps.schema, ['succeeded', null]);
    assert.deepEqual(steps.raw, ['no_data', d.run.error]);
    for (const s of ['staging', 'vault', 'marts', 'quality']) assert.deepEqual(steps[s], ['skipped', 'upstream step raw had no data'], s);
    // Not retried: one attempt, and it did not fail.
    assert.deepEqual(d.attempts.filter((a: { step: string }) => a.step === 'raw').map((a: { status: string }) => a.status), ['succeeded']);

    const events = await readSse(await fetch(`${api.url}/api/v1/runs/${r.body.id}/events`), (e) => e.event === 'end');
    const types = events.map((e) => e.event);
    assert.ok(types.includes('step.no_data'), types.join(' '));
    assert.equal(types.at(-2), 'run.no_data');
    assert.equal(JSON.parse(events.at(-2)!.data).payload.error, d.run.error);

    const listed = await call('GET', '/api/v1/runs?pipeline=retail&status=no_data');
    assert.ok(listed.body.items.some((x: { id: string }) => x.id === r.body.id));
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(metrics, /^sluice_runs_total\{pipeline="retail",status="no_data"\} [1-9]\d*$/m);
  });

  test('a backfill over a range with a closed day succeeds and counts it apart; with emptyDay=error the day fails', async () => {
    const wait = async (id: string) => {
      let s = (await call('GET', `/api/v1/backfills/${id}`)).body;
      for (let i = 0; i < 600 && s.status === 'running'; i++) {
        await new Promise((res) => setTimeout(res, 100));
        s = (await call('GET', `/api/v1/backfills/${id}`)).body;
      }
      return s;
    };
    const b = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-12-03', to: '2010-12-05', concurrency: 2 });
    assert.equal(b.status, 202, JSON.stringify(b.body));
    const s = await wait(b.body.id);
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(s.counts, { succeeded: 2, noData: 1, failed: 0, pending: 0 });
    assert.deepEqual(s.partitions.map((p: { partition: string; status: string }) => [p.partition, p.status]),
      [['2010-12-03', 'succeeded'], [CLOSED, 'no_data'], ['2010-12-05', 'succeeded']]);

    const strict = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: CLOSED, to: CLOSED, params: { emptyDay: 'error' } });
    const f = await wait(strict.body.id);
    assert.equal(f.status, 'failed');
    assert.deepEqual(f.counts, { succeeded: 0, noData: 0, failed: 1, pending: 0 });
    assert.match(f.partitions[0].error, /check raw\.online_retail:raw_not_empty failed/);
  });
});

describe('CLI: the no-data outcome', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = tempHome();
  after(() => dir.cleanup());
  const sluice = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  test(`sluice run --partition ${CLOSED} exits 0 and says no data; sluice runs lists it; the README's backfill says 4 succeeded, 1 no data`, async () => {
    const run = await sluice(['run', 'retail', '--partition', CLOSED]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`^∅ raw no data — no rows for ${CLOSED} in .*online-retail/ \\(20 files, 42,481 rows of other days\\)$`, 'm'));
    assert.match(run.stderr, /^↷ quality skipped — upstream step raw had no data$/m);
    assert.match(run.stderr, /^run [0-9a-f-]{36} no data: no rows for 2010-12-04/m);
    assert.match(run.stdout, new RegExp(`^retail \\[${CLOSED}\\]: no data in \\d+\\.\\d s, 0 rows written, 0 quarantined\\nno data: no rows for ${CLOSED}`));

    const runs = await sluice(['runs', '--status', 'no_data', '--json']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.deepEqual(JSON.parse(runs.stdout).map((r: { partition: string; status: string }) => [r.partition, r.status]), [[CLOSED, 'no_data']]);

    const bf = await sluice(['backfill', 'retail', '--from', '2010-12-01', '--to', '2010-12-05']);
    assert.equal(bf.code, 0, bf.stderr);
    assert.match(bf.stdout, /\n4 succeeded, 1 no data, 0 failed\n$/);
    assert.match(bf.stderr, new RegExp(`^${CLOSED}: no data \\(no rows for ${CLOSED}`, 'm'));
  });
});
