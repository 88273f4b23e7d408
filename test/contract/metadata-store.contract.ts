import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type {
  AttemptRecord,
  CheckResultRecord,
  GaugeValue,
  MaterializationRecord,
  MetadataStore,
  NewEvent,
  NewRun,
  RunRecord,
  StepRecord,
} from '../../src/ports/metadata-store.ts';

// Every test names its own pipelines, runs and assets, so the suite also passes on a
// store that already holds data (a reopened directory, a shared database schema).
const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
/** A fixed clock: second `s` after 2024-01-01T00:00:00Z. */
const at = (s: number): string => new Date(Date.UTC(2024, 0, 1) + s * 1000).toISOString();
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const step = (runId: string, name: string, over: Partial<StepRecord> = {}): StepRecord => ({
  runId, step: name, status: 'pending', attempts: 0, startedAt: null, finishedAt: null, rowsWritten: 0, reason: null,
  ...over,
});

const attempt = (runId: string, name: string, n: number, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  id: uid('att'), runId, step: name, attempt: n, status: 'running', startedAt: at(n), finishedAt: null, error: null,
  rowsWritten: 0, failure: null, ...over,
});

/**
 * The behaviour every MetadataStore adapter must show. `open` gives a store on fresh or
 * existing storage; `reopen`, for persistent adapters only, opens the same storage again
 * after the first store was closed.
 */
export function metadataStoreContract(
  name: string,
  open: () => Promise<MetadataStore>,
  reopen?: () => Promise<MetadataStore>,
): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let store: MetadataStore;
    const run = (over: Partial<NewRun> = {}): Promise<RunRecord> =>
      store.runs.create({ id: uid('run'), pipeline: uid('pipe'), partition: null, params: {}, ...over });
    const appendEvent = async (e: NewEvent) => (await store.write({ events: [e] }))[0]!;

    before(async () => {
      store = await open();
      await store.migrate();
    });
    after(async () => {
      await store.close();
    });

    it('migrates again without harm and keeps the data', async () => {
      const r = await run();
      await store.migrate();
      await store.migrate();
      assert.deepEqual((await store.runs.get(r.id))?.run, r);
    });

    it('creates a run with defaults and round-trips params', async () => {
      const params = { date: '2024-01-01', nested: { list: [1, 'two', null, true] }, ratio: 1.5 };
      const t0 = Date.now();
      const r = await run({ pipeline: 'retail', partition: '2024-01-01', params });
      const t1 = Date.now();
      assert.equal(r.status, 'queued');
      assert.deepEqual(r.params, params);
      assert.equal(r.pipeline, 'retail');
      assert.equal(r.partition, '2024-01-01');
      assert.equal(r.startedAt, null);
      assert.equal(r.finishedAt, null);
      assert.equal(r.error, null);
      assert.equal(r.backfillId, null);
      assert.equal(r.parentRunId, null);
      assert.equal(r.rootRunId, null);
      assert.match(r.createdAt, ISO_UTC);
      const created = Date.parse(r.createdAt);
      assert.ok(created >= t0 - 2000 && created <= t1 + 2000, `createdAt ${r.createdAt} is not now`);
      assert.deepEqual(await store.runs.get(r.id), { run: r, steps: [], attempts: [] });
    });

    it('keeps a given status, backfill and createdAt, normalised to UTC', async () => {
      const r = await run({ status: 'running', backfillId: 'bf-1', createdAt: '2024-01-01T02:00:00+02:00' });
      assert.equal(r.status, 'running');
      assert.equal(r.backfillId, 'bf-1');
      assert.equal(r.createdAt, '2024-01-01T00:00:00.000Z');
      assert.deepEqual((await store.runs.get(r.id))?.run, r);
    });

    it('keeps where a retried run came from', async () => {
      const root = await run({ createdAt: at(1) });
      const parent = await run({ pipeline: root.pipeline, parentRunId: root.id, rootRunId: root.id, createdAt: at(2) });
      const child = await run({ pipeline: root.pipeline, parentRunId: parent.id, rootRunId: root.id, createdAt: at(3) });
      assert.deepEqual([parent.parentRunId, parent.rootRunId], [root.id, root.id]);
      assert.deepEqual((await store.runs.get(child.id))?.run, child);
      assert.deepEqual((await store.runs.list({ pipeline: root.pipeline })).map((r) => [r.id, r.parentRunId, r.rootRunId]), [
        [child.id, parent.id, root.id], [parent.id, root.id, root.id], [root.id, null, null],
      ]);
    });

    it('stores the failure detail of an attempt, one batch at a time and with others', async () => {
      const r = await run();
      const failure = {
        code: 'step_failed', name: 'TypeError', message: 'step load failed: TypeError: x is undefined', retryable: false,
        nonRetryableReason: 'the step marked the error non-retryable', stack: 'TypeError: x is undefined\n    at run (file:///p/orders.ts:3:7)',
        frame: '/p/orders.ts:3:7', notRetried: 'the step marked the error non-retryable, retry policy allows 3 attempts',
      };
      const one = attempt(r.id, 'load', 1, { status: 'failed', error: failure.message, failure });
      await store.write({ attempts: [one] });
      const two = attempt(r.id, 'load', 2, { status: 'failed', error: 'again', failure: { ...failure, stack: null, frame: null } });
      const three = attempt(r.id, 'load', 3);
      await store.write({ attempts: [two, three] });
      assert.deepEqual((await store.runs.get(r.id))?.attempts, [one, two, three]);
    });

    it('refuses a second run with the same id', async () => {
      const r = await run();
      await assert.rejects(store.runs.create({ id: r.id, pipeline: 'other', partition: null, params: {} }), { name: 'ConflictError', message: `run ${r.id} already exists` });
      assert.equal((await store.runs.get(r.id))?.run.pipeline, r.pipeline);
    });

    it('returns undefined for an unknown run', async () => {
      assert.equal(await store.runs.get(uid('missing')), undefined);
    });

    it('updates only the patched fields of a run', async () => {
      const r = await run({ params: { a: 1 } });
      await store.write({ runs: [{ id: r.id, status: 'running', startedAt: at(10) }] });
      assert.deepEqual((await store.runs.get(r.id))?.run, { ...r, status: 'running', startedAt: at(10) });
      await store.write({ runs: [{ id: r.id, status: 'failed', finishedAt: '2024-01-01T01:00:20+01:00', error: 'boom' }] });
      const failed = { ...r, status: 'failed' as const, startedAt: at(10), finishedAt: at(20), error: 'boom' };
      assert.deepEqual((await store.runs.get(r.id))?.run, failed);
      await store.write({ runs: [{ id: r.id }] });
      assert.deepEqual((await store.runs.get(r.id))?.run, failed);
      await store.write({ runs: [{ id: r.id, error: null, finishedAt: null }] });
      assert.deepEqual((await store.runs.get(r.id))?.run, { ...failed, error: null, finishedAt: null });
    });

    it('refuses a change to an unknown run, and the rest of its batch with it', async () => {
      const r = await run();
      const event = { runId: r.id, type: 'run.succeeded', step: null, attemptId: null, ts: at(1), payload: {} };
      await assert.rejects(store.write({ runs: [{ id: uid('missing'), status: 'running' }], events: [event] }), { name: 'NotFoundError' });
      assert.deepEqual(await store.runs.events({ runId: r.id }), []);
      // A run's final status and the event that reports it are stored together.
      const [e] = await store.write({ runs: [{ id: r.id, status: 'succeeded', finishedAt: at(1) }], events: [event] });
      assert.equal((await store.runs.get(r.id))?.run.status, 'succeeded');
      assert.deepEqual(await store.runs.events({ runId: r.id }), [e]);
    });

    it('lists runs newest first, filtered by pipeline, status, partition and backfill', async () => {
      const p = uid('pipe');
      const a = await run({ pipeline: p, partition: 'd1', createdAt: at(1), status: 'succeeded' });
      const b = await run({ pipeline: p, partition: 'd2', createdAt: at(2), status: 'failed', backfillId: 'bf' });
      const c = await run({ pipeline: p, partition: 'd1', createdAt: at(3), status: 'failed', backfillId: 'bf' });
      const d = await run({ pipeline: p, partition: null, createdAt: at(4) });
      await run({ pipeline: uid('other'), partition: 'd1', createdAt: at(5), status: 'failed', backfillId: 'bf' });
      const ids = async (f: Parameters<MetadataStore['runs']['list']>[0]) => (await store.runs.list(f)).map((r) => r.id);
      assert.deepEqual(await store.runs.list({ pipeline: p }), [d, c, b, a]);
      assert.deepEqual(await ids({ pipeline: p, status: 'failed' }), [c.id, b.id]);
      assert.deepEqual(await ids({ pipeline: p, partition: 'd1' }), [c.id, a.id]);
      assert.deepEqual(await ids({ pipeline: p, backfillId: 'bf' }), [c.id, b.id]);
      assert.deepEqual(await ids({ pipeline: p, backfillId: 'bf', partition: 'd2', status: 'failed' }), [b.id]);
      assert.deepEqual(await ids({ pipeline: p, limit: 2 }), [d.id, c.id]);
      assert.deepEqual(await ids({ pipeline: p, limit: 0 }), []);
      assert.deepEqual(await ids({ pipeline: p, status: 'cancelled' }), []);
    });

    it('lists runs of every pipeline when no pipeline is given', async () => {
      // A century ahead, so these two are the newest runs even in a store reused across test runs.
      const future = Date.now() + 100 * 365 * 86_400_000;
      const x = await run({ createdAt: new Date(future).toISOString() });
      const y = await run({ createdAt: new Date(future + 1000).toISOString() });
      assert.deepEqual((await store.runs.list({ limit: 2 })).map((r) => r.id), [y.id, x.id]);
    });

    it('pages through runs with a (createdAt, id) keyset, ties broken by id', async () => {
      const p = uid('pipe');
      const times = [1, 2, 2, 2, 3, 4, 4];
      const made = [];
      for (const [i, s] of times.entries()) made.push(await run({ id: `${p}-${i}`, pipeline: p, createdAt: at(s) }));
      const expected = made
        .sort((l, r) => (l.createdAt === r.createdAt ? (l.id < r.id ? 1 : -1) : l.createdAt < r.createdAt ? 1 : -1))
        .map((r) => r.id);
      const seen: string[] = [];
      let before: { createdAt: string; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const rows = await store.runs.list({ pipeline: p, limit: 3, ...(before ? { before } : {}) });
        if (rows.length === 0) break;
        assert.ok(rows.length <= 3);
        seen.push(...rows.map((r) => r.id));
        const last = rows.at(-1)!;
        before = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(seen, expected);
    });

    it('returns 50 runs when no limit is given and rejects a negative limit', async () => {
      const p = uid('pipe');
      for (let i = 0; i < 55; i++) await run({ id: `${p}-${String(i).padStart(2, '0')}`, pipeline: p, createdAt: at(i) });
      const rows = await store.runs.list({ pipeline: p });
      assert.equal(rows.length, 50);
      assert.equal(rows[0]!.id, `${p}-54`);
      assert.equal(rows[49]!.id, `${p}-05`);
      await assert.rejects(store.runs.list({ pipeline: p, limit: -1 }), { name: 'ValidationError' });
    });

    it('upserts steps by (runId, step) and keeps the order they first appeared in', async () => {
      const r = await run();
      const other = await run();
      await store.write({ steps: [step(r.id, 'extract', { status: 'running', attempts: 1, startedAt: at(1) })] });
      await store.write({ steps: [step(r.id, 'transform')] });
      await store.write({ steps: [step(r.id, 'a-load')] });
      await store.write({ steps: [step(other.id, 'extract', { status: 'skipped' })] });
      const extract = step(r.id, 'extract', {
        status: 'succeeded', attempts: 2, startedAt: at(1), finishedAt: at(9), rowsWritten: 1234, reason: null,
      });
      const transform = step(r.id, 'transform', { status: 'skipped', reason: 'upstream failed' });
      await store.write({ steps: [extract] });
      await store.write({ steps: [transform] });
      const detail = await store.runs.get(r.id);
      assert.deepEqual(detail?.steps, [extract, transform, step(r.id, 'a-load')]);
      assert.deepEqual((await store.runs.get(other.id))?.steps, [step(other.id, 'extract', { status: 'skipped' })]);
    });

    it('upserts attempts by id and orders them by step, then attempt number', async () => {
      const r = await run();
      await store.write({ steps: [step(r.id, 'extract')] });
      await store.write({ steps: [step(r.id, 'load')] });
      const load1 = attempt(r.id, 'load', 1);
      const extract2 = attempt(r.id, 'extract', 2);
      const extract1 = attempt(r.id, 'extract', 1);
      for (const a of [load1, extract2, extract1]) await store.write({ attempts: [a] });
      const extract1Done = { ...extract1, status: 'failed' as const, finishedAt: at(5), error: 'timeout', rowsWritten: 7 };
      const load1Done = { ...load1, status: 'succeeded' as const, finishedAt: at(6), rowsWritten: 3_000_000_000 };
      await store.write({ attempts: [extract1Done] });
      await store.write({ attempts: [load1Done] });
      assert.deepEqual((await store.runs.get(r.id))?.attempts, [extract1Done, extract2, load1Done]);
    });

    it('assigns increasing event ids and filters events by run, afterId and limit', async () => {
      const a = await run();
      const b = await run();
      const ev = (runId: string, type: string, s: number, payload: Record<string, unknown> = {}) =>
        appendEvent({ runId, type, step: null, attemptId: null, ts: at(s), payload });
      const a1 = await ev(a.id, 'run.started', 1, { params: { x: [1, { y: 'z' }] } });
      const b1 = await ev(b.id, 'run.started', 2);
      const a2 = await appendEvent({
        runId: a.id, type: 'step.finished', step: 'extract', attemptId: 'att-1', ts: '2024-01-01T01:00:03+01:00',
        payload: { rows: 10 },
      });
      const a3 = await ev(a.id, 'run.finished', 4);
      assert.deepEqual(a1, {
        id: a1.id, runId: a.id, type: 'run.started', step: null, attemptId: null, ts: at(1),
        payload: { params: { x: [1, { y: 'z' }] } },
      });
      assert.equal(a2.ts, at(3));
      assert.equal(a2.step, 'extract');
      assert.equal(a2.attemptId, 'att-1');
      assert.ok(Number.isInteger(a1.id));
      assert.ok(a1.id < b1.id && b1.id < a2.id && a2.id < a3.id, 'ids increase across runs');
      assert.deepEqual(await store.runs.events({ runId: a.id }), [a1, a2, a3]);
      assert.deepEqual(await store.runs.events({ runId: a.id, afterId: a1.id }), [a2, a3]);
      assert.deepEqual(await store.runs.events({ runId: a.id, limit: 1 }), [a1]);
      assert.deepEqual(await store.runs.events({ runId: a.id, afterId: a3.id }), []);
      const mine = new Set([a.id, b.id]);
      const tail = (await store.runs.events({ afterId: a1.id })).filter((e) => mine.has(e.runId));
      assert.deepEqual(tail, [b1, a2, a3]);
      assert.deepEqual(await store.runs.events({ runId: a.id, newestFirst: true }), [a3, a2, a1]);
      assert.deepEqual(await store.runs.events({ runId: a.id, newestFirst: true, limit: 1 }), [a3]);
      assert.deepEqual(await store.runs.events({ newestFirst: true, limit: 1 }), [a3], 'the latest event of all');
    });

    it('keeps materializations and check results, newest first, filtered by asset, partition and run', async () => {
      const r1 = await run();
      const r2 = await run();
      const asset = uid('asset');
      const otherAsset = uid('asset');
      const mat = (runId: string, a: string, partition: string | null, s: number): MaterializationRecord =>
        ({ runId, step: 'load', asset: a, partition, rows: s * 100, metadata: { s, cols: ['a', 'b'] }, ts: at(s) });
      const chk = (runId: string, a: string, partition: string | null, s: number, over: Partial<CheckResultRecord> = {}) =>
        ({ runId, step: 'load', asset: a, check: 'not_empty', partition, severity: 'error', passed: true,
          message: 'ok', value: s, ts: at(s), ...over }) satisfies CheckResultRecord;
      const m1 = mat(r1.id, asset, 'd1', 1);
      const m2 = mat(r2.id, asset, 'd2', 2);
      const m3 = mat(r2.id, asset, 'd1', 3);
      const mOther = mat(r2.id, otherAsset, 'd1', 4);
      for (const m of [m3, m1, mOther, m2]) await store.write({ materializations: [m] });
      const c1 = chk(r1.id, asset, 'd1', 1, { passed: false, severity: 'warn', message: 'too few rows', value: null });
      const c2 = chk(r2.id, asset, 'd2', 2, { check: 'unique_id', value: 0.25 });
      const c3 = chk(r2.id, asset, 'd1', 3);
      const cOther = chk(r2.id, otherAsset, null, 4);
      for (const c of [c2, c1, c3, cOther]) await store.write({ checks: [c] });

      assert.deepEqual(await store.assets.history({ asset }), { materializations: [m3, m2, m1], checks: [c3, c2, c1] });
      assert.deepEqual(await store.assets.history({ asset, partition: 'd1' }), { materializations: [m3, m1], checks: [c3, c1] });
      assert.deepEqual(await store.assets.history({ asset, runId: r1.id }), { materializations: [m1], checks: [c1] });
      assert.deepEqual(await store.assets.history({ runId: r2.id }), {
        materializations: [mOther, m3, m2], checks: [cOther, c3, c2],
      });
      assert.deepEqual(await store.assets.history({ asset, limit: 1 }), { materializations: [m3], checks: [c3] });
      assert.deepEqual(await store.assets.history({ asset: uid('none') }), { materializations: [], checks: [] });

      // The newest of each asset asked for, whatever its partition; an asset never materialized is left out.
      const latest = await store.assets.latest([asset, otherAsset, uid('none')]);
      assert.deepEqual(latest.sort((x, y) => x.ts.localeCompare(y.ts)), [m3, mOther]);
      const m4 = mat(r1.id, asset, 'd2', 5);
      await store.write({ materializations: [m4] });
      assert.deepEqual(await store.assets.latest([asset]), [m4]);
      assert.deepEqual(await store.assets.latest([]), []);
    });

    it('writes materializations and check results in one transaction with the events of a batch', async () => {
      const r = await run();
      const asset = uid('asset');
      const m: MaterializationRecord = { runId: r.id, step: 'load', asset, partition: null, rows: 7, metadata: { a: 1 }, ts: at(1) };
      const c: CheckResultRecord = {
        runId: r.id, step: 'load', asset, check: 'not_empty', partition: null, severity: 'error', passed: true, message: 'ok', value: 7, ts: at(1),
      };
      const event = { runId: r.id, type: 'asset.materialized', step: 'load', attemptId: null, ts: at(1), payload: { seq: 1 } };
      const [e] = await store.write({ events: [event], materializations: [m], checks: [c] });
      assert.deepEqual(await store.runs.events({ runId: r.id }), [e]);
      assert.deepEqual(await store.assets.history({ asset }), { materializations: [m], checks: [c] });
      // A batch that fails part-way leaves nothing of itself behind, the events included.
      const unwritable = { ...m, ts: at(3), metadata: { n: 1n } as unknown as Record<string, unknown> };
      await assert.rejects(store.write({ events: [{ ...event, ts: at(2) }], materializations: [{ ...m, ts: at(2) }, unwritable] }), /BigInt/);
      assert.deepEqual(await store.runs.events({ runId: r.id }), [e]);
      assert.deepEqual(await store.assets.history({ asset }), { materializations: [m], checks: [c] });
    });

    it('counts runs per bucket of time and status, for one pipeline or all', async () => {
      const p = uid('pipe');
      await run({ pipeline: p, createdAt: at(0), status: 'succeeded' });
      await run({ pipeline: p, createdAt: at(59), status: 'succeeded' });
      await run({ pipeline: p, createdAt: at(60), status: 'failed' });
      await run({ pipeline: p, createdAt: at(130), status: 'succeeded' });
      await run({ pipeline: p, createdAt: at(180), status: 'failed' }); // at `to`: left out
      const other = uid('other');
      await run({ pipeline: other, createdAt: at(61), status: 'failed' });
      const range = { from: at(0), to: at(180), bucketMs: 60_000 };
      assert.deepEqual(await store.runs.counts({ ...range, pipeline: p }), [
        { bucket: 0, status: 'succeeded', count: 2 },
        { bucket: 1, status: 'failed', count: 1 },
        { bucket: 2, status: 'succeeded', count: 1 },
      ]);
      const both = (await store.runs.counts(range)).filter((c) => c.bucket === 1);
      assert.ok(both.some((c) => c.status === 'failed' && c.count >= 2), JSON.stringify(both));
      assert.deepEqual(await store.runs.counts({ ...range, pipeline: uid('none') }), []);
    });

    it('lists the latest run of each partition of a pipeline, oldest key first, and of a range with its steps', async () => {
      const p = uid('pipe');
      const old = await run({ pipeline: p, partition: '2024-01-01', createdAt: at(1), status: 'failed' });
      const latest1 = await run({ pipeline: p, partition: '2024-01-01', createdAt: at(5), status: 'succeeded' });
      const latest2 = await run({ pipeline: p, partition: '2024-01-02', createdAt: at(2), status: 'running' });
      const latest3 = await run({ pipeline: p, partition: '2024-01-09', createdAt: at(3), status: 'succeeded' });
      await run({ pipeline: p, partition: null, createdAt: at(9) });
      await run({ pipeline: uid('other'), partition: '2024-01-01', createdAt: at(9), status: 'failed' });
      await store.write({ steps: [
        step(old.id, 'load', { status: 'failed', reason: 'boom' }),
        step(latest1.id, 'load', { status: 'succeeded', reason: 'check t:c failed (severity error) — 0 rows' }),
        step(latest1.id, 'report', { status: 'skipped', reason: 'blocked: check t:c failed' }),
      ] });
      const sorted = () => store.runs.partitions(p);
      const before = await sorted();
      assert.deepEqual(before.map(({ updatedAt: _, ...rest }) => rest), [
        { partition: '2024-01-01', status: 'succeeded', runId: latest1.id },
        { partition: '2024-01-02', status: 'running', runId: latest2.id },
        { partition: '2024-01-09', status: 'succeeded', runId: latest3.id },
      ]);
      const ranged = await store.runs.partitionRuns(p, '2024-01-01', '2024-01-08');
      assert.deepEqual(ranged.map(({ updatedAt: _, ...rest }) => rest), [
        { partition: '2024-01-01', status: 'succeeded', runId: latest1.id, steps: [
          { step: 'load', status: 'succeeded', reason: 'check t:c failed (severity error) — 0 rows' },
          { step: 'report', status: 'skipped', reason: 'blocked: check t:c failed' },
        ] },
        { partition: '2024-01-02', status: 'running', runId: latest2.id, steps: [] },
      ]);
      assert.deepEqual(await store.runs.partitionRuns(p, '2024-01-03', '2024-01-08'), []);
      for (const s of before) assert.match(s.updatedAt, ISO_UTC);

      await store.write({ runs: [{ id: latest2.id, status: 'failed', finishedAt: at(30) }] });
      const afterUpdate = await sorted();
      assert.equal(afterUpdate[1]!.status, 'failed');
      assert.ok(afterUpdate[1]!.updatedAt >= before[1]!.updatedAt, 'updatedAt moves forward');
      assert.deepEqual(await store.runs.partitions(uid('none')), []);
    });

    it('upserts gauges by name and labels, whatever the label order', async () => {
      const name = uid('sluice_gauge').replaceAll('-', '_');
      const g = (labels: Record<string, string>, value: number, help = 'help', s = 1): GaugeValue =>
        ({ kind: 'gauge', name, help, labels, value, updatedAt: at(s) });
      await store.gauges.put([g({ pipeline: 'retail', step: 'load' }, 1), g({ pipeline: 'taxi' }, 2), g({}, 3)]);
      await store.gauges.put([g({ step: 'load', pipeline: 'retail' }, 10, 'new help', 5)]);
      await store.gauges.put([]);
      // Label key order is not part of the contract: compare on a canonical form.
      const key = (x: GaugeValue) => JSON.stringify(Object.entries(x.labels).sort());
      const byLabels = (l: GaugeValue, r: GaugeValue) => key(l).localeCompare(key(r));
      const mine = (await store.gauges.list()).filter((x) => x.name === name).sort(byLabels);
      assert.deepEqual(mine, [
        g({ pipeline: 'retail', step: 'load' }, 10, 'new help', 5),
        g({ pipeline: 'taxi' }, 2),
        g({}, 3),
      ].sort(byLabels));
    });

    it('upserts stream offsets by stream, topic and partition, with the pending batch', async () => {
      const stream = uid('market-live.connect');
      const other = uid('other.connect');
      const o = (partition: number, offset: number, pendingEnd: number | null, s: number, topic = 'sluice.data.klines') =>
        ({ stream, topic, partition, offset, pendingEnd, runId: 'r1', updatedAt: at(s) });
      await store.write({ offsets: [o(0, 10, 20, 1), o(1, 5, null, 1), { ...o(0, 99, null, 1), stream: other }] });
      await store.write({ offsets: [o(0, 20, null, 2), o(0, 0, null, 2, 'sluice.data.trades')] });
      assert.deepEqual(await store.streams.list(stream), [o(0, 20, null, 2), o(1, 5, null, 1), o(0, 0, null, 2, 'sluice.data.trades')]);
      const all = await store.streams.list();
      assert.deepEqual(all.filter((x) => x.stream === other).map((x) => x.offset), [99]);
      assert.deepEqual(await store.streams.list(uid('none')), []);
      // Offsets beyond 2^32 (a busy topic's) survive the round trip.
      await store.write({ offsets: [o(2, 2 ** 40 + 7, 2 ** 40 + 9, 3)] });
      assert.deepEqual((await store.streams.list(stream)).find((x) => x.partition === 2), o(2, 2 ** 40 + 7, 2 ** 40 + 9, 3));
    });

    it('keeps counter totals beside gauges, each with its kind', async () => {
      const name = uid('sluice_total').replaceAll('-', '_');
      const c = (value: number, s: number): GaugeValue => ({ kind: 'counter', name, help: 'runs', labels: { status: 'failed', pipeline: 'p' }, value, updatedAt: at(s) });
      await store.gauges.put([c(1, 1)]);
      await store.gauges.put([c(3, 2)]);
      const mine = (await store.gauges.list()).filter((x) => x.name === name);
      assert.deepEqual(mine.map((x) => ({ ...x, labels: Object.fromEntries(Object.entries(x.labels).sort()) })), [
        { ...c(3, 2), labels: { pipeline: 'p', status: 'failed' } },
      ]);
      const plain = uid('sluice_gauge').replaceAll('-', '_');
      await store.gauges.put([{ name: plain, help: 'h', labels: {}, value: 1, updatedAt: at(1) }]);
      assert.equal((await store.gauges.list()).find((x) => x.name === plain)?.kind, 'gauge');
    });

    // Only persistent adapters get this test; an in-memory store has nothing to reopen.
    if (reopen) it('keeps its data across close and reopen', async () => {
      const r = await run({ params: { k: 'v' }, partition: 'p1' });
      await store.write({ steps: [step(r.id, 'extract', { status: 'succeeded', rowsWritten: 5 })] });
      const att = attempt(r.id, 'extract', 1, { status: 'succeeded' });
      await store.write({ attempts: [att] });
      const e1 = await appendEvent({ runId: r.id, type: 't', step: null, attemptId: null, ts: at(1), payload: { n: 1 } });
      const asset = uid('asset');
      const m: MaterializationRecord = { runId: r.id, step: 'extract', asset, partition: 'p1', rows: 5, metadata: {}, ts: at(2) };
      await store.write({ materializations: [m] });
      const gauge: GaugeValue = { kind: 'gauge', name: uid('g').replaceAll('-', '_'), help: 'h', labels: { a: 'b' }, value: 1.25, updatedAt: at(3) };
      await store.gauges.put([gauge]);
      const detail = await store.runs.get(r.id);

      await store.close();
      store = await reopen!();
      await store.migrate();

      assert.deepEqual(await store.runs.get(r.id), detail);
      assert.deepEqual(await store.runs.events({ runId: r.id }), [e1]);
      assert.deepEqual((await store.assets.history({ asset })).materializations, [m]);
      assert.deepEqual((await store.gauges.list()).filter((g) => g.name === gauge.name), [gauge]);
      assert.deepEqual((await store.runs.partitions(r.pipeline)).map((s) => s.runId), [r.id]);
      const e2 = await appendEvent({ runId: r.id, type: 't', step: null, attemptId: null, ts: at(4), payload: {} });
      assert.ok(e2.id > e1.id, 'event ids keep increasing after a reopen');
    });
  });
}
