import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MetadataStore, NewRun } from '../../src/ports/metadata-store.ts';
import type { NewTick, ScheduleStore } from '../../src/ports/schedule-store.ts';

// Every test names its own pipelines, so the suite also passes on a store that already
// holds data. Pruning only touches runs of the year 2000, which only the prune tests create.
const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
/** A fixed clock: minute `m` after 2024-01-01T00:00:00Z. */
const at = (m: number): string => new Date(Date.UTC(2024, 0, 1) + m * 60_000).toISOString();
/** Day `d` of the year 2000, for runs old enough to prune. */
const old = (d: number): string => new Date(Date.UTC(2000, 0, 1) + d * 86_400_000).toISOString();

const tick = (pipeline: string, m: number, over: Partial<NewTick> = {}): NewTick => ({
  pipeline, schedule: 'nightly', tickAt: at(m), runId: uid('run'), partition: null, claimedAt: at(m), ...over,
});

/**
 * The behaviour every ScheduleStore must show, reached through `MetadataStore.schedules`.
 * `openShared`, when given, opens a second store on the same database, for claims raced
 * from two connection pools.
 */
export function scheduleStoreContract(
  name: string,
  open: () => Promise<MetadataStore>,
  openShared?: () => Promise<MetadataStore>,
): void {
  describe(`ScheduleStore contract: ${name}`, () => {
    let metadata: MetadataStore;
    let store: ScheduleStore;

    before(async () => {
      metadata = await open();
      await metadata.migrate();
      store = metadata.schedules;
    });
    after(async () => {
      await metadata.close();
    });

    it('lets exactly one claim of a tick win and keeps the winner\'s run id', async () => {
      const p = uid('pipe');
      const first = tick(p, 60, { partition: '2024-01-01' });
      assert.equal(await store.claimTick(first), true);
      assert.equal(await store.claimTick({ ...first, runId: uid('run'), claimedAt: at(61) }), false);
      // The same instant written with another offset is the same tick.
      assert.equal(await store.claimTick({ ...first, tickAt: '2024-01-01T02:00:00+01:00', runId: uid('run') }), false);
      const [t] = await store.listTicks({ pipeline: p });
      assert.deepEqual(t, { ...first, status: 'claimed', reason: null, finishedAt: null });
    });

    it('keys ticks by pipeline, schedule and tick time', async () => {
      const p = uid('pipe');
      const q = uid('pipe');
      assert.equal(await store.claimTick(tick(p, 0)), true);
      assert.equal(await store.claimTick(tick(p, 1)), true);
      assert.equal(await store.claimTick(tick(p, 0, { schedule: 'hourly' })), true);
      assert.equal(await store.claimTick(tick(q, 0)), true);
      assert.equal((await store.listTicks({ pipeline: p })).length, 3);
    });

    it('lets one of many concurrent claims win', async () => {
      const p = uid('pipe');
      const results = await Promise.all(Array.from({ length: 12 }, () => store.claimTick(tick(p, 5))));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.listTicks({ pipeline: p })).length, 1);
    });

    if (openShared) {
      it('lets one claim win when two stores on one database race', async () => {
        const other = await openShared();
        try {
          const p = uid('pipe');
          for (let m = 0; m < 10; m++) {
            const t = tick(p, m);
            const results = await Promise.all([
              store.claimTick({ ...t, runId: 'a' }), other.schedules.claimTick({ ...t, runId: 'b' }),
              store.claimTick({ ...t, runId: 'c' }), other.schedules.claimTick({ ...t, runId: 'd' }),
            ]);
            assert.equal(results.filter(Boolean).length, 1, `tick ${m}: ${results.join(', ')}`);
          }
        } finally {
          await other.close();
        }
      });
    }

    it('records a result once; a final tick is not changed again', async () => {
      const p = uid('pipe');
      const a = tick(p, 0);
      const b = tick(p, 1);
      await store.claimTick(a);
      await store.claimTick(b);
      await store.finishTick(a, { status: 'submitted' }, at(2));
      await store.finishTick(a, { status: 'failed', reason: 'late' }, at(3));
      await store.finishTick(b, { status: 'skipped', reason: 'partition 2023-12-31 is outside 2024-01-01 … open' }, at(4));
      const ticks = await store.listTicks({ pipeline: p });
      assert.deepEqual(ticks, [
        { ...b, status: 'skipped', reason: 'partition 2023-12-31 is outside 2024-01-01 … open', finishedAt: at(4) },
        { ...a, status: 'submitted', reason: null, finishedAt: at(2) },
      ]);
      // Finishing a tick nobody claimed creates nothing.
      await store.finishTick(tick(p, 9), { status: 'submitted' }, at(9));
      assert.equal((await store.listTicks({ pipeline: p })).length, 2);
    });

    it('lists claimed ticks without a result, claimed at or before a cutoff, oldest tick first', async () => {
      const p = uid('pipe');
      const base = 10_000_000;
      const late = tick(p, base + 3, { claimedAt: at(10) });
      const early = tick(p, base + 1, { claimedAt: at(20) });
      const recent = tick(p, base + 2, { claimedAt: at(40) });
      const done = tick(p, base + 0, { claimedAt: at(5) });
      for (const t of [late, early, recent, done]) await store.claimTick(t);
      await store.finishTick(done, { status: 'submitted' }, at(6));
      const mine = <T extends { pipeline: string }>(ts: T[]): T[] => ts.filter((t) => t.pipeline === p);
      assert.deepEqual(mine(await store.pendingTicks(at(30), 1000)), [
        { ...early, status: 'claimed', reason: null, finishedAt: null },
        { ...late, status: 'claimed', reason: null, finishedAt: null },
      ]);
      assert.deepEqual(mine(await store.pendingTicks(at(40), 1000)).map((t) => t.tickAt), [early, recent, late].map((t) => t.tickAt));
      assert.deepEqual(mine(await store.pendingTicks(at(9), 1000)), []);
      assert.ok((await store.pendingTicks(at(40), 1)).length <= 1);
      await assert.rejects(store.pendingTicks(at(40), -1), { code: 'validation' });
    });

    it('enables schedules by default, remembers disabling, and lists states with their last tick', async () => {
      const p = uid('pipe');
      assert.deepEqual(await store.listSchedules(p), []);
      await store.advance(p, 'b-hourly', at(0));
      await store.setEnabled(p, 'a-nightly', false);
      assert.deepEqual(await store.listSchedules(p), [
        { pipeline: p, schedule: 'a-nightly', enabled: false, evaluatedThrough: null, lastTick: null },
        { pipeline: p, schedule: 'b-hourly', enabled: true, evaluatedThrough: at(0), lastTick: null },
      ]);
      const t1 = tick(p, 60, { schedule: 'b-hourly' });
      const t2 = tick(p, 120, { schedule: 'b-hourly' });
      await store.claimTick(t2);
      await store.claimTick(t1);
      await store.finishTick(t2, { status: 'submitted' }, at(121));
      await store.advance(p, 'a-nightly', at(5));
      await store.setEnabled(p, 'b-hourly', false);
      await store.setEnabled(p, 'b-hourly', true);
      const states = await store.listSchedules(p);
      assert.deepEqual(states, [
        { pipeline: p, schedule: 'a-nightly', enabled: false, evaluatedThrough: at(5), lastTick: null },
        { pipeline: p, schedule: 'b-hourly', enabled: true, evaluatedThrough: at(0),
          lastTick: { ...t2, status: 'submitted', reason: null, finishedAt: at(121) } },
      ]);
      assert.ok((await store.listSchedules()).some((s) => s.pipeline === p), 'listed without a filter too');
    });

    it('only moves evaluated-through forward', async () => {
      const p = uid('pipe');
      await store.advance(p, 's', at(10));
      await store.advance(p, 's', at(5));
      assert.equal((await store.listSchedules(p))[0]!.evaluatedThrough, at(10));
      await store.advance(p, 's', '2024-01-01T01:00:00+01:00');
      assert.equal((await store.listSchedules(p))[0]!.evaluatedThrough, at(10));
      await store.advance(p, 's', at(11));
      assert.equal((await store.listSchedules(p))[0]!.evaluatedThrough, at(11));
    });

    it('lists ticks newest first, filtered and limited', async () => {
      const p = uid('pipe');
      const ts = [tick(p, 1), tick(p, 2), tick(p, 3, { schedule: 'other' }), tick(p, 4)];
      for (const t of ts) await store.claimTick(t);
      await store.finishTick(ts[1]!, { status: 'submitted' }, at(5));
      const times = async (f: Parameters<ScheduleStore['listTicks']>[0]) => (await store.listTicks(f)).map((t) => t.tickAt);
      assert.deepEqual(await times({ pipeline: p }), [at(4), at(3), at(2), at(1)]);
      assert.deepEqual(await times({ pipeline: p, schedule: 'nightly' }), [at(4), at(2), at(1)]);
      assert.deepEqual(await times({ pipeline: p, status: 'submitted' }), [at(2)]);
      assert.deepEqual(await times({ pipeline: p, limit: 2 }), [at(4), at(3)]);
      assert.deepEqual(await times({ pipeline: p, limit: 0 }), []);
      await assert.rejects(store.listTicks({ limit: -1 }), { code: 'validation' });
    });

    it('binds names as values, never as SQL', async () => {
      const p = `it's"; DROP TABLE schedule_ticks; --`;
      const t = tick(p, 7, { schedule: `x'); DELETE FROM runs; --`, partition: `'`, runId: `r'1` });
      assert.equal(await store.claimTick(t), true);
      await store.setEnabled(p, t.schedule, false);
      await store.advance(p, t.schedule, at(8));
      assert.deepEqual(await store.listTicks({ pipeline: p, schedule: t.schedule }), [
        { ...t, status: 'claimed', reason: null, finishedAt: null },
      ]);
      assert.equal((await store.listSchedules(p))[0]!.enabled, false);
    });

    describe('pruneHistory', () => {
      const seed = async (over: Partial<NewRun> & { finishedAt?: string | null }, children = true): Promise<string> => {
        const id = uid('run');
        const { finishedAt, ...run } = over;
        await metadata.runs.create({ id, pipeline: 'prune', partition: '2000-01-01', params: {}, ...run });
        if (finishedAt !== undefined) await metadata.write({ runs: [{ id, finishedAt }] });
        if (!children) return id;
        const ts = run.createdAt ?? old(0);
        await metadata.write({
          steps: [{ runId: id, step: 'load', status: 'succeeded', attempts: 1, startedAt: ts, finishedAt: ts, rowsWritten: 3, reason: null }],
          attempts: [{ id: uid('att'), runId: id, step: 'load', attempt: 1, status: 'succeeded', startedAt: ts, finishedAt: ts, error: null, rowsWritten: 3 }],
          events: [0, 1, 2].map((i) => ({ runId: id, type: 'log', step: 'load', attemptId: null, ts, payload: { i } })),
          materializations: [{ runId: id, step: 'load', asset: 'raw.prune', partition: '2000-01-01', rows: 3, metadata: {}, ts }],
          checks: [{ runId: id, step: 'load', asset: 'raw.prune', check: 'not_empty', partition: '2000-01-01', severity: 'error',
            passed: true, message: 'ok', value: 3, ts }],
        });
        return id;
      };
      const gone = async (id: string): Promise<boolean> => {
        const detail = await metadata.runs.get(id);
        const events = await metadata.runs.events({ runId: id });
        const history = await metadata.assets.history({ runId: id });
        return detail === undefined && events.length === 0 && history.materializations.length === 0 && history.checks.length === 0;
      };
      const whole = async (id: string): Promise<boolean> => {
        const detail = await metadata.runs.get(id);
        const history = await metadata.assets.history({ runId: id });
        return detail?.steps.length === 1 && detail.attempts.length === 1 && (await metadata.runs.events({ runId: id })).length === 3 &&
          history.materializations.length === 1 && history.checks.length === 1;
      };

      it('deletes finished runs before the cutoff with everything they own, one batch per call', async () => {
        const cutoff = old(20);
        const oldRuns: string[] = [];
        for (let d = 1; d <= 5; d++) {
          oldRuns.push(await seed({ createdAt: old(d), status: d % 2 === 0 ? 'failed' : 'succeeded', finishedAt: old(d) }));
        }
        oldRuns.push(await seed({ createdAt: old(2), status: 'cancelled' })); // never started: created_at counts
        const finishedLate = await seed({ createdAt: old(1), status: 'succeeded', finishedAt: old(25) });
        const recent = await seed({ createdAt: old(30), status: 'succeeded', finishedAt: old(30) });
        const stillRunning = await seed({ createdAt: old(1), status: 'running' });
        const stillQueued = await seed({ createdAt: old(1), status: 'queued' }, false);

        assert.equal(await store.pruneHistory(cutoff, 4), 4);
        const left = async () => (await Promise.all(oldRuns.map((id) => metadata.runs.get(id)))).filter(Boolean).length;
        assert.equal(await left(), 2);
        assert.equal(await store.pruneHistory(cutoff, 4), 2);
        assert.equal(await store.pruneHistory(cutoff, 4), 0);
        for (const id of oldRuns) assert.ok(await gone(id), `run ${id} and its rows are gone`);
        for (const id of [finishedLate, recent, stillRunning]) assert.ok(await whole(id), `run ${id} is untouched`);
        assert.ok(await metadata.runs.get(stillQueued));
      });

      it('deletes the oldest first', async () => {
        const a = await seed({ createdAt: old(3), status: 'succeeded', finishedAt: old(3) }, false);
        const b = await seed({ createdAt: old(1), status: 'succeeded', finishedAt: old(4) }, false);
        const c = await seed({ createdAt: old(2), status: 'succeeded', finishedAt: old(2) }, false);
        assert.equal(await store.pruneHistory(old(10), 1), 1);
        assert.deepEqual([await metadata.runs.get(c), await metadata.runs.get(a) !== undefined, await metadata.runs.get(b) !== undefined],
          [undefined, true, true]);
        assert.equal(await store.pruneHistory(old(10), 1), 1);
        assert.equal(await metadata.runs.get(a), undefined);
        assert.equal(await store.pruneHistory(old(10), 5), 1);
        assert.equal(await metadata.runs.get(b), undefined);
      });

      it('forgets old final ticks the schedule has evaluated, never pending ones', async () => {
        const p = uid('pipe');
        const oldTick = (d: number) => ({ pipeline: p, schedule: 's', tickAt: old(d), runId: uid('run'), partition: null, claimedAt: old(d) });
        const submitted = oldTick(1);
        const skipped = oldTick(2);
        const pending = oldTick(3);
        const beyondCursor = oldTick(6);
        const recent = oldTick(40);
        for (const t of [submitted, skipped, pending, beyondCursor, recent]) await store.claimTick(t);
        await store.finishTick(submitted, { status: 'submitted' }, old(1));
        await store.finishTick(skipped, { status: 'skipped', reason: 'out of range' }, old(2));
        await store.finishTick(beyondCursor, { status: 'submitted' }, old(6));
        await store.finishTick(recent, { status: 'submitted' }, old(40));
        await store.advance(p, 's', old(5));
        await store.pruneHistory(old(20), 100);
        assert.deepEqual((await store.listTicks({ pipeline: p })).map((t) => t.tickAt), [recent, beyondCursor, pending].map((t) => t.tickAt));
      });

      it('refuses a batch size below one', async () => {
        await assert.rejects(store.pruneHistory(old(1), 0), { code: 'validation' });
        await assert.rejects(store.pruneHistory(old(1), 1.5), { code: 'validation' });
      });
    });
  });
}
