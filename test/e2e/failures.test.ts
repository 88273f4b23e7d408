import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_PIPELINES, useFixtureApi } from '../helpers/fixture-api.ts';
import { readFileSync } from 'node:fs';
import { summarizeRun } from '../../src/cli/run-summary.ts';
import { readSse } from '../helpers/api.ts';

const api = useFixtureApi();
const { call, waitRun } = api;
const typeErrorLine = readFileSync(`${FIXTURE_PIPELINES}errors.ts`, 'utf8').split('\n').findIndex((l) => l.includes('// throws: TypeError')) + 1;

const start = async (params: Record<string, unknown>) => (await call('POST', '/api/v1/runs', { pipeline: 'errors', params })).body.id as string;
type Attempt = { step: string; status: string; error: string | null; failure: Record<string, unknown> | null };
const boomAttempts = (d: { attempts: Attempt[] }) => d.attempts.filter((a) => a.step === 'boom');

describe('a step that throws', () => {
  test('a TypeError: its class, message, stack and the pipeline file\'s line are in GET /runs/{id} and in attempt.failed', async () => {
    const id = await start({ fail: 'type-error' });
    const d = await waitRun(id);
    assert.equal(d.run.status, 'failed');
    const [first] = boomAttempts(d);
    const f = first.failure!;
    assert.equal(f.name, 'TypeError');
    assert.equal(f.code, 'step_failed');
    assert.match(String(f.message), /TypeError: Cannot read properties of undefined \(reading 'total'\)/);
    assert.ok(String(f.frame).startsWith(`${FIXTURE_PIPELINES}errors.ts:`), `frame ${f.frame} is a path in the fixture`);
    assert.match(String(f.frame), new RegExp(`errors\\.ts:${typeErrorLine}:\\d+$`));
    assert.match(String(f.stack), new RegExp(`at run \\(file://${FIXTURE_PIPELINES}errors\\.ts:${typeErrorLine}:\\d+\\)`));
    assert.ok(String(f.stack).length <= 4_100, 'a bounded stack');
    assert.equal(first.error, f.message);

    const events = await readSse(await fetch(`${api.url}/api/v1/runs/${id}/events`), (e) => e.event === 'end');
    const failed = events.filter((e) => e.event === 'attempt.failed').map((e) => JSON.parse(e.data).payload);
    assert.equal(failed.length, 3);
    assert.equal(failed[0].error.name, 'TypeError');
    assert.match(failed[0].error.frame, new RegExp(`errors\\.ts:${typeErrorLine}:\\d+$`));
    assert.match(failed[0].error.stack, /errors\.ts/);
    assert.deepEqual(failed.map((p) => p.notRetried), [null, null, 'attempt 3 was the last, retry policy allows 3 attempts']);
  });

  test('nonRetryable() fails the step at its first attempt; retryable() retries what would not be', async () => {
    const marked = await waitRun(await start({ fail: 'non-retryable' }));
    assert.deepEqual(boomAttempts(marked).map((a) => a.status), ['failed']);
    const plain = await waitRun(await start({ fail: 'validation' }));
    assert.deepEqual(boomAttempts(plain).map((a) => a.status), ['failed']);
    const revived = await waitRun(await start({ fail: 'retryable-validation' }));
    assert.deepEqual(boomAttempts(revived).map((a) => a.status), ['failed', 'failed', 'failed']);
    const healed = await waitRun(await start({ fail: 'retryable-validation', until: 2 }));
    assert.equal(healed.run.status, 'succeeded');
    assert.deepEqual(boomAttempts(healed).map((a) => a.status), ['failed', 'succeeded']);
  });

  test('the run summary says why no retry followed, with the policy', async () => {
    const marked = await waitRun(await start({ fail: 'non-retryable' }));
    const s = summarizeRun(marked, [], []);
    const boom = s.steps.find((x) => x.name === 'boom')!;
    assert.equal(boom.failure?.notRetried, 'the file will not change between attempts, retry policy allows 3 attempts');
    assert.equal(boom.failure?.name, 'Error');
    assert.match(boom.failure?.frame ?? '', /errors\.ts:\d+:\d+$/);
    assert.equal(s.steps.find((x) => x.name === 'talk')!.failure, null);
    const exhausted = summarizeRun(await waitRun(await start({ fail: 'type-error' })), [], []);
    assert.equal(exhausted.steps.find((x) => x.name === 'boom')!.failure?.notRetried, 'attempt 3 was the last, retry policy allows 3 attempts');
  });
});

describe('retries of a run', () => {
  test('parentRunId and rootRunId through two retries, in the API and the listing', async () => {
    const root = await waitRun(await start({ fail: 'type-error' }));
    assert.deepEqual([root.run.parentRunId, root.run.rootRunId], [null, null]);
    const r1 = await call('POST', `/api/v1/runs/${root.run.id}/retry`);
    assert.equal(r1.status, 201);
    assert.deepEqual([r1.body.parentRunId, r1.body.rootRunId], [root.run.id, root.run.id]);
    await waitRun(r1.body.id);
    const r2 = await call('POST', `/api/v1/runs/${r1.body.id}/retry`);
    assert.deepEqual([r2.body.parentRunId, r2.body.rootRunId], [r1.body.id, root.run.id]);
    const d2 = await waitRun(r2.body.id);
    assert.deepEqual([d2.run.parentRunId, d2.run.rootRunId], [r1.body.id, root.run.id]);
    const listed = (await call('GET', '/api/v1/runs?pipeline=errors&limit=3')).body.items;
    assert.deepEqual(listed.map((r: { id: string; parentRunId: string | null }) => [r.id, r.parentRunId]), [
      [r2.body.id, r1.body.id], [r1.body.id, root.run.id], [root.run.id, null],
    ]);
    // The reused step ran only in the first run of the chain.
    assert.equal(d2.attempts.filter((a: Attempt) => a.step === 'talk').length, 0);
  });

  test('cancelling a finished run says it already ended', async () => {
    const ok = await waitRun(await start({}));
    const c = await call('POST', `/api/v1/runs/${ok.run.id}/cancel`);
    assert.equal(c.status, 409);
    assert.equal(c.body.detail, `run ${ok.run.id} already succeeded; nothing to cancel`);
  });
});

describe('the global event stream', () => {
  test('starts live without Last-Event-ID; ?from=0 replays the history', async () => {
    const before = (await api.rt.services.metadata.runs.events({ newestFirst: true, limit: 1 }))[0].id;
    const live = await fetch(`${api.url}/api/v1/events`);
    const id = await start({});
    const got = await readSse(live, (e) => e.event === 'run.succeeded' && JSON.parse(e.data).runId === id);
    assert.ok(got.every((e) => Number(e.id) > before), 'only events from after connecting');
    assert.equal(JSON.parse(got[0].data).runId, id);

    const history = await readSse(await fetch(`${api.url}/api/v1/events?from=0`), () => true);
    const first = (await api.rt.services.metadata.runs.events({ limit: 1 }))[0];
    assert.equal(Number(history[0].id), first.id);
    const fromMid = await readSse(await fetch(`${api.url}/api/v1/events?from=${before}`), () => true);
    assert.equal(Number(fromMid[0].id), before, '?from includes the event it names');
    const resumed = await readSse(await fetch(`${api.url}/api/v1/events`, { headers: { 'last-event-id': String(before) } }), () => true);
    assert.ok(Number(resumed[0].id) > before, 'Last-Event-ID still resumes after the event');
  });

  test('the OpenAPI document describes ?from and the live start', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/events'].get;
    assert.match(op.summary, /live/);
    assert.ok(op.parameters.some((p: { name: string; in: string }) => p.name === 'from' && p.in === 'query'));
    assert.match(op.responses['200'].content['text/event-stream'].schema.description, /`\?from=0`: the whole/);
  });
});

describe('messages', () => {
  test('a SQL error shows what the user wrote, not the FORMAT clause the client added', async () => {
    await assert.rejects(api.rt.services.warehouse.query('SELEC 1'), (err: Error) => {
      assert.equal(err.name, 'SluiceError');
      assert.match(err.message, /SYNTAX_ERROR/);
      assert.doesNotMatch(err.message, /FORMAT/);
      return true;
    });
  });
});
