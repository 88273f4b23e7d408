import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useFixtureApi } from '../helpers/fixture-api.ts';
import { readSse } from '../helpers/api.ts';

const api = useFixtureApi();
const { call, waitRun } = api;

describe('pipelines', () => {
  test('list and get one with DAG, assets, schedules, partitions, params schema', async () => {
    const list = await call('GET', '/api/v1/pipelines');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((p: { name: string }) => p.name).sort(), ['always-fails', 'dummy', 'errors', 'gate', 'market-history', 'market-live', 'retail']);
    const one = await call('GET', '/api/v1/pipelines/retail');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.steps, ['schema', 'raw', 'staging', 'vault', 'marts', 'quality']);
    assert.deepEqual(one.body.dag.edges[0], { from: 'schema', to: 'raw' });
    assert.equal(one.body.partitions.granularity, 'daily');
    assert.equal(one.body.schedules[0].cron, '0 1 * * *');
    assert.ok(one.body.params.properties.source);
    assert.deepEqual(one.body.dag.nodes[1].assets[0].checks, [{ name: 'raw_not_empty', severity: 'error' }]);
    const missing = await call('GET', '/api/v1/pipelines/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not_found');
    assert.match(missing.type, /application\/problem\+json/);
  });

  test('the partition grid: every key of a range with each key\'s latest run and its steps', async () => {
    const d = await call('POST', '/api/v1/runs', { pipeline: 'dummy', partition: '2024-01-03', params: { records: 5, rate: 1000 } });
    assert.equal(d.status, 201);
    assert.equal((await waitRun(d.body.id)).run.status, 'succeeded');
    // Without a range: the keys up to the newest run, at most 400 of them.
    const grid = await call('GET', '/api/v1/pipelines/dummy/partitions');
    assert.equal(grid.status, 200);
    assert.deepEqual([grid.body.from, grid.body.to, grid.body.keys.length, grid.body.steps], ['2024-01-01', '2024-01-03', 3, ['load']]);
    assert.deepEqual(grid.body.items.map((i: { partition: string; runId: string; steps: unknown[] }) => [i.partition, i.runId, i.steps]), [
      ['2024-01-03', d.body.id, [{ step: 'load', status: 'succeeded', reason: null }]],
    ]);
    const ranged = await call('GET', '/api/v1/pipelines/dummy/partitions?from=2024-01-02&to=2024-01-05');
    assert.deepEqual(ranged.body.keys, ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05']);
    assert.equal((await call('GET', '/api/v1/pipelines/dummy/partitions?from=2024-01-01&to=2026-01-01')).status, 413);
    const flat = await call('GET', '/api/v1/pipelines/always-fails/partitions');
    assert.equal(flat.status, 404);
    assert.equal(flat.body.detail, 'partition grid (the pipeline is not partitioned) not found: always-fails');
    assert.equal((await call('GET', '/api/v1/pipelines/dummy/partitions?from=2024-13-01')).status, 400);
  });
});

describe('runs', () => {
  test('create → 201, get with steps and attempts, list with filters and cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/api/v1/runs', { pipeline: 'gate', params: { flakyFailures: 0 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.pipeline, 'gate');
      ids.push(r.body.id);
      await waitRun(r.body.id);
    }
    const d = await call('GET', `/api/v1/runs/${ids[0]}`);
    assert.equal(d.body.run.status, 'succeeded');
    assert.equal(d.body.steps.length, 4);
    assert.equal(d.body.attempts.length, 4);
    const page1 = await call('GET', '/api/v1/runs?pipeline=gate&limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await call('GET', `/api/v1/runs?pipeline=gate&limit=2&cursor=${page1.body.nextCursor}`);
    const seen = [...page1.body.items, ...page2.body.items].map((r: { id: string }) => r.id);
    assert.equal(new Set(seen).size, seen.length);
    for (const id of ids) assert.ok(seen.includes(id));
    const failed = await call('GET', '/api/v1/runs?status=failed&pipeline=gate');
    assert.equal(failed.body.items.length, 0);
    const future = await call('GET', `/api/v1/runs?createdFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(future.body.items.length, 0);
  });

  test('bad input is problem+json naming the field; unknown fields are refused', async () => {
    const unknown = await call('POST', '/api/v1/runs', { pipeline: 'gate', extra: 1 });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, 'validation');
    assert.equal(unknown.body.field, 'body.extra');
    const badParam = await call('POST', '/api/v1/runs', { pipeline: 'gate', params: { flakyFailures: 'x' } });
    assert.equal(badParam.status, 400);
    assert.equal(badParam.body.field, 'flakyFailures');
    const badLimit = await call('GET', '/api/v1/runs?limit=100000');
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.field, 'query.limit');
    const badCursor = await call('GET', '/api/v1/runs?cursor=garbage');
    assert.equal(badCursor.body.field, 'query.cursor');
    const badId = await call('GET', '/api/v1/runs/not-a-uuid');
    assert.equal(badId.body.field, 'path.id');
    const noBody = await call('POST', '/api/v1/runs');
    assert.equal(noBody.status, 400);
    const noRoute = await call('GET', '/api/v1/nothing');
    assert.equal(noRoute.status, 404);
  });

  test('retry re-executes from the failed step, reusing what succeeded', async () => {
    const r = await call('POST', '/api/v1/runs', { pipeline: 'gate', params: { flakyFailures: 5 } });
    const first = await waitRun(r.body.id);
    assert.equal(first.run.status, 'failed');
    const retry = await call('POST', `/api/v1/runs/${r.body.id}/retry`);
    assert.equal(retry.status, 201);
    const second = await waitRun(retry.body.id);
    // Same params, so flaky fails again, but extract was reused, not re-run.
    assert.equal(second.attempts.filter((a: { step: string }) => a.step === 'extract').length, 0);
    assert.equal(second.steps.find((s: { step: string }) => s.step === 'extract').status, 'succeeded');
    const again = await call('POST', `/api/v1/runs/${first.run.id}/retry`);
    assert.equal(again.status, 201);
    const ok = await call('POST', '/api/v1/runs', { pipeline: 'gate' });
    await waitRun(ok.body.id);
    const noRetry = await call('POST', `/api/v1/runs/${ok.body.id}/retry`);
    assert.equal(noRetry.status, 409);
  });

  test('cancel stops a running run', async () => {
    const r = await call('POST', '/api/v1/runs', { pipeline: 'gate', params: { hang: true } });
    // Wait for the slow step to start, then cancel.
    for (let i = 0; i < 200; i++) {
      const d = await call('GET', `/api/v1/runs/${r.body.id}`);
      if (d.body.steps.find((s: { step: string }) => s.step === 'slow')?.status === 'running') break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const c = await call('POST', `/api/v1/runs/${r.body.id}/cancel`);
    assert.equal(c.status, 202);
    const d = await waitRun(r.body.id);
    assert.equal(d.run.status, 'cancelled');
    const again = await call('POST', `/api/v1/runs/${r.body.id}/cancel`);
    assert.equal(again.status, 409);
  });
});

describe('events', () => {
  test('a run\'s events stream as SSE and resume after Last-Event-ID', async () => {
    const r = await call('POST', '/api/v1/runs', { pipeline: 'gate' });
    const res = await fetch(`${api.url}/api/v1/runs/${r.body.id}/events`);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const all = await readSse(res, (e) => e.event === 'end');
    const types = all.filter((e) => e.event !== 'end').map((e) => e.event);
    assert.equal(types[0], 'run.started');
    assert.equal(types.at(-1), 'run.succeeded');
    const mid = all[3];
    const resumed = await readSse(
      await fetch(`${api.url}/api/v1/runs/${r.body.id}/events`, { headers: { 'last-event-id': mid.id } }),
      (e) => e.event === 'end',
    );
    assert.deepEqual(resumed.filter((e) => e.event !== 'end').map((e) => e.id), all.slice(4).filter((e) => e.event !== 'end').map((e) => e.id));
  });

  test('the global stream delivers events of runs started after connecting', async () => {
    const last = (await api.rt.services.metadata.runs.events({ limit: 100_000 })).at(-1)?.id ?? 0;
    const res = await fetch(`${api.url}/api/v1/events`, { headers: { 'last-event-id': String(last) } });
    const r = await call('POST', '/api/v1/runs', { pipeline: 'gate' });
    const got = await readSse(res, (e) => e.event === 'run.succeeded' && JSON.parse(e.data).runId === r.body.id);
    assert.ok(got.every((e) => Number(e.id) > last));
  });
});

describe('backfills, assets, health', () => {
  test('backfill of retail partitions reports per-partition status', async () => {
    const b = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-12-01', to: '2010-12-02', concurrency: 2 });
    assert.equal(b.status, 202, JSON.stringify(b.body));
    assert.deepEqual(b.body.partitions.map((p: { partition: string }) => p.partition), ['2010-12-01', '2010-12-02']);
    let s = b.body;
    for (let i = 0; i < 600 && s.status === 'running'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      s = (await call('GET', `/api/v1/backfills/${b.body.id}`)).body;
    }
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(s.partitions.map((p: { status: string }) => p.status), ['succeeded', 'succeeded']);
    const tooBig = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-12-01', to: '2016-12-01' });
    assert.equal(tooBig.status, 413);
    // An edit token with the override cannot make the server list eight thousand years of days: counted, then refused.
    const huge = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '0001-01-01', to: '9999-12-31', allowOutOfRange: true });
    assert.deepEqual([huge.status, huge.body.detail], [413, 'backfill of 3652059 partitions is over the limit of 1000; split the range']);
    const badRange = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-12-05', to: '2010-12-01' });
    assert.equal(badRange.status, 400);
    const notPartitioned = await call('POST', '/api/v1/backfills', { pipeline: 'gate', from: '2010-12-01', to: '2010-12-02' });
    assert.equal(notPartitioned.status, 400);
    const badConc = await call('POST', '/api/v1/backfills', { pipeline: 'retail', from: '2010-12-01', to: '2010-12-02', concurrency: 1000 });
    assert.equal(badConc.body.field, 'body.concurrency');
  });

  test('assets, materializations and checks per partition, lineage', async () => {
    const list = await call('GET', '/api/v1/assets');
    assert.ok(list.body.items.some((a: { name: string }) => a.name === 'raw.online_retail'));
    const m = await call('GET', '/api/v1/assets/raw.online_retail/materializations?partition=2010-12-01');
    assert.equal(m.body.items[0].rows, 3108);
    const c = await call('GET', '/api/v1/assets/raw.online_retail/checks?partition=2010-12-02');
    assert.equal(c.body.items[0].check, 'raw_not_empty');
    assert.equal(c.body.items[0].passed, true);
    const lin = await call('GET', '/api/v1/lineage');
    assert.ok(lin.body.edges.some((e: { from: string; to: string }) => e.from === 'raw.online_retail' && e.to === 'staging.online_retail'));
    assert.equal((await call('GET', '/api/v1/assets/nope/checks')).status, 404);
    const kinds = Object.fromEntries(list.body.items.map((a: { name: string; kind: string }) => [a.name, a.kind]));
    assert.deepEqual([kinds['raw.online_retail'], kinds['quality.data_quality'], kinds['quality.quarantine']], ['data', 'quality', 'quarantine']);
    const raw = list.body.items.find((a: { name: string }) => a.name === 'raw.online_retail');
    assert.deepEqual(raw.lastChecks.map((c: { check: string; passed: boolean }) => [c.check, c.passed]), [['raw_not_empty', true]]);
    assert.deepEqual(list.body.items.find((a: { name: string }) => a.name === 'marts.fact_sales').lastChecks, []);
  });

  test('an asset\'s rows for a view token: columns with types, filter, order, paging, and nothing but declared tables', async () => {
    const page = await call('GET', '/api/v1/assets/quality.data_quality/rows?order=day&desc=true&limit=1');
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual(page.body.columns.slice(0, 2), [{ name: 'day', type: 'Date' }, { name: 'lines', type: 'UInt64' }]);
    assert.equal(page.body.rows.length, 1);
    assert.ok(page.body.total >= 2, `total ${page.body.total}`);
    const asc = await call('GET', '/api/v1/assets/quality.data_quality/rows?order=day&limit=1000');
    assert.equal(page.body.rows[0].day, asc.body.rows.at(-1).day);
    assert.ok(asc.body.rows[0].day < page.body.rows[0].day);
    const filtered = await call('GET', '/api/v1/assets/raw.online_retail/rows?q=WHITE%20HANGING%20HEART&limit=5');
    assert.ok(filtered.body.total > 0 && filtered.body.rows.every((r: { description: string }) => /white hanging heart/i.test(r.description)));
    // The filter is data, never SQL: a quote inside it finds nothing and breaks nothing.
    const quoted = await call('GET', `/api/v1/assets/raw.online_retail/rows?q=${encodeURIComponent("') OR 1=1 --")}`);
    assert.deepEqual([quoted.status, quoted.body.total], [200, 0]);
    const badOrder = await call('GET', '/api/v1/assets/raw.online_retail/rows?order=nope');
    assert.deepEqual([badOrder.status, badOrder.body.field], [400, 'query.order']);
    assert.equal((await call('GET', '/api/v1/assets/system.tables/rows')).status, 404);
    assert.equal((await call('GET', '/api/v1/assets/raw.online_retail/rows?limit=5000')).status, 400);
  });

  test('run counts per status in hourly buckets, and the gauges the pipelines set', async () => {
    const day = await call('GET', '/api/v1/runs/counts');
    assert.equal(day.status, 200);
    assert.equal(day.body.buckets.length, 24);
    assert.equal(day.body.bucketMs, 3_600_000);
    const listed = await call('GET', '/api/v1/runs?limit=200');
    const inDay = listed.body.items.filter((r: { createdAt: string }) => r.createdAt >= day.body.buckets[0].start);
    const counted = day.body.buckets.reduce((n: number, b: { counts: Record<string, number> }) => n + Object.values(b.counts).reduce((a, c) => a + c, 0), 0);
    assert.equal(counted, inDay.length);
    const week = await call('GET', '/api/v1/runs/counts?window=7d&pipeline=retail');
    assert.equal(week.body.buckets.length, 28);
    assert.ok(Date.parse(week.body.buckets[1].start) - Date.parse(week.body.buckets[0].start) === 6 * 3_600_000);
    assert.equal((await call('GET', '/api/v1/runs/counts?window=1y')).status, 400);
    const gauges = await call('GET', '/api/v1/gauges');
    const volume = gauges.body.items.find((g: { name: string }) => g.name === 'latest_sales_volume');
    assert.deepEqual([volume?.kind, volume?.labels.pipeline], ['gauge', 'retail']);
    assert.ok(gauges.body.items.some((g: { kind: string }) => g.kind === 'counter'));
  });

  test('query, health, readiness, metrics and the OpenAPI document', async () => {
    const q = await call('POST', '/api/v1/query', { sql: "SELECT count() AS n FROM raw.online_retail WHERE day = '2010-12-01'" });
    assert.deepEqual({ ...q.body, elapsedMs: 0 }, {
      rows: [{ n: 3108 }], columns: [{ name: 'n', type: 'UInt64' }], truncated: false, statement: 'select', elapsedMs: 0,
    });
    assert.equal((await call('GET', '/healthz')).body.status, 'ok');
    assert.equal((await call('GET', '/readyz')).body.status, 'ready');
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(metrics, /sluice_runs_total\{pipeline="gate",status="succeeded"\} \d+/);
    assert.match(metrics, /latest_sales_volume\{pipeline="retail"\}/);
    const doc = (await call('GET', '/api/v1/openapi.json')).body;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.paths['/api/v1/runs'].post.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(Object.keys(doc.paths['/api/v1/runs/{id}']), ['get']);
    assert.equal(doc.paths['/api/v1/runs'].post['x-required-role'], 'edit');
  });
});

describe('schedules and retention', () => {
  test('list schedules, disable and enable one, list its ticks', async () => {
    const list = await call('GET', '/api/v1/schedules');
    const daily = list.body.items.find((s: { pipeline: string }) => s.pipeline === 'retail');
    // 01:00 UTC, the next one after now.
    const next = new Date();
    next.setUTCHours(1, 0, 0, 0);
    if (next.getTime() <= Date.now()) next.setUTCDate(next.getUTCDate() + 1);
    assert.deepEqual({ ...daily, evaluatedThrough: null, lastTick: null }, {
      pipeline: 'retail', name: 'daily', cron: '0 1 * * *', timezone: 'UTC', partition: 'previous', enabled: true, evaluatedThrough: null, lastTick: null,
      nextTickAt: next.toISOString(),
    });
    const off = await call('PUT', '/api/v1/schedules/retail/daily', { enabled: false });
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    assert.equal(off.body.nextTickAt, null, 'a disabled schedule has no next tick');
    assert.equal((await call('GET', '/api/v1/schedules')).body.items.find((s: { pipeline: string }) => s.pipeline === 'retail').enabled, false);
    assert.equal((await call('PUT', '/api/v1/schedules/retail/daily', { enabled: true })).body.enabled, true);
    assert.equal((await call('PUT', '/api/v1/schedules/retail/nope', { enabled: true })).status, 404);
    assert.equal((await call('PUT', '/api/v1/schedules/retail/daily', { enabled: 'yes' })).body.field, 'body.enabled');
    assert.deepEqual((await call('GET', '/api/v1/schedules/retail/daily/ticks')).body, { items: [] });
  });

  test('prune deletes finished runs older than the cutoff, in batches, and keeps newer ones', async () => {
    const before = (await call('GET', '/api/v1/runs?limit=200')).body.items.length;
    assert.ok(before > 3);
    const none = await call('POST', '/api/v1/retention/prune', { olderThanDays: 1 });
    assert.deepEqual(none.body, { deletedRuns: 0 });
    const all = await call('POST', '/api/v1/retention/prune', { olderThanDays: 0, batchSize: 2 });
    assert.ok(all.body.deletedRuns >= before - 1, JSON.stringify(all.body));
    const left = (await call('GET', '/api/v1/runs?limit=200')).body.items;
    assert.ok(left.every((r: { finishedAt: string | null }) => r.finishedAt === null));
  });
});
