import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { ScheduleStore } from '../../src/ports/schedule-store.ts';
import { RetentionPruner } from '../../src/runtime/retention.ts';
import type { Logger } from '../../src/runtime/services.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2024-06-30T00:00:00Z');
const clock = { now: () => new Date(NOW) };
const daysAgo = (d: number): string => new Date(NOW - d * DAY).toISOString();
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const CHILD_TABLES = ['steps', 'attempts', 'events', 'materializations', 'check_results'] as const;

describe('RetentionPruner on PGlite', () => {
  let db: PGlite;
  let metadata: MetadataStore;

  before(async () => {
    db = await PGlite.create();
    metadata = await createPgliteMetadataStore({ db });
    await metadata.migrate();
  });
  after(async () => {
    await metadata.close();
    await db.close();
  });

  /** A run as the coordinator leaves it: two steps, attempts, events, materializations, a check. */
  const seedRun = async (id: string, status: 'succeeded' | 'failed' | 'cancelled' | 'running', createdDaysAgo: number, finishedDaysAgo: number | null) => {
    const ts = daysAgo(createdDaysAgo);
    await metadata.runs.create({ id, pipeline: 'retail', partition: '2024-01-01', params: {}, status, createdAt: ts });
    if (finishedDaysAgo !== null) await metadata.write({ runs: [{ id, startedAt: ts, finishedAt: daysAgo(finishedDaysAgo) }] });
    for (const name of ['raw', 'marts']) {
      await metadata.write({
        steps: [{ runId: id, step: name, status: 'succeeded', attempts: 1, startedAt: ts, finishedAt: ts, rowsWritten: 5, reason: null }],
        attempts: [{ id: `${id}-${name}-1`, runId: id, step: name, attempt: 1, status: 'succeeded', startedAt: ts,
          finishedAt: ts, error: null, rowsWritten: 5 }],
        events: [0, 1, 2, 3].map((i) => ({ runId: id, type: 'log', step: name, attemptId: `${id}-${name}-1`, ts, payload: { i } })),
        materializations: [{ runId: id, step: name, asset: `x.${name}`, partition: '2024-01-01', rows: 5, metadata: {}, ts }],
        checks: [{ runId: id, step: name, asset: `x.${name}`, check: 'not_empty', partition: '2024-01-01',
          severity: 'warn', passed: true, message: 'ok', value: 5, ts }],
      });
    }
  };

  const count = async (table: string, runIds: readonly string[]): Promise<number> => {
    const column = table === 'runs' ? 'id' : 'run_id';
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1::text[])`, [[...runIds]]);
    return rows[0]!.n;
  };

  it('deletes finished runs past the age limit with all their rows, in batches, and keeps the rest', async () => {
    const oldIds: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = `old-${i}`;
      await seedRun(id, (['succeeded', 'failed', 'cancelled'] as const)[i % 3], 60 + i, 59 + i);
      oldIds.push(id);
    }
    await seedRun('recent-1', 'succeeded', 5, 4);
    await seedRun('recent-2', 'failed', 29, 29);
    // Created long ago but finished recently: its age counts from the finish.
    await seedRun('long-runner', 'succeeded', 90, 10);
    // Old but never finished: a live run keeps its history.
    await seedRun('stuck', 'running', 90, null);
    const kept = ['recent-1', 'recent-2', 'long-runner', 'stuck'];

    const batches: number[] = [];
    const store: Pick<ScheduleStore, 'pruneHistory'> = {
      pruneHistory: async (cutoff, size) => {
        const n = await metadata.schedules.pruneHistory(cutoff, size);
        batches.push(n);
        return n;
      },
    };
    const pruner = new RetentionPruner({ store, maxAgeMs: 30 * DAY, batchSize: 3, clock, logger: quiet });
    assert.equal(await pruner.pruneOnce(), 7);
    assert.deepEqual(batches, [3, 3, 1]);

    assert.equal(await count('runs', oldIds), 0);
    for (const table of CHILD_TABLES) assert.equal(await count(table, oldIds), 0, `${table} rows of pruned runs`);
    assert.equal(await count('runs', kept), 4);
    assert.deepEqual(
      await Promise.all(CHILD_TABLES.map((t) => count(t, kept))),
      [8, 8, 32, 8, 8],
      'steps, attempts, events, materializations, check results of kept runs',
    );
    for (const table of CHILD_TABLES) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE run_id NOT IN (SELECT id FROM runs)`);
      assert.equal(rows[0]!.n, 0, `no orphans in ${table}`);
    }

    assert.equal(await pruner.pruneOnce(), 0, 'nothing left to prune');
  });
});

describe('RetentionPruner', () => {
  /** A backlog of `total` runs, deleted `size` at a time, answering without real I/O. */
  const backlog = (total: number) => {
    const calls: { before: string; size: number }[] = [];
    let left = total;
    const store: Pick<ScheduleStore, 'pruneHistory'> = {
      pruneHistory: async (before, size) => {
        calls.push({ before, size });
        const n = Math.min(size, left);
        left -= n;
        return n;
      },
    };
    return { store, calls };
  };

  it('cuts off at now minus maxAgeMs and stops after a short batch', async () => {
    const { store, calls } = backlog(25);
    const pruner = new RetentionPruner({ store, maxAgeMs: 7 * DAY, batchSize: 10, clock, logger: quiet });
    assert.equal(await pruner.pruneOnce(), 25);
    assert.deepEqual(calls, [
      { before: daysAgo(7), size: 10 }, { before: daysAgo(7), size: 10 }, { before: daysAgo(7), size: 10 },
    ]);
  });

  it('lets other work run between batches', async () => {
    const order: string[] = [];
    const { store } = backlog(40);
    const traced: Pick<ScheduleStore, 'pruneHistory'> = {
      pruneHistory: (before, size) => {
        order.push('batch');
        return store.pruneHistory(before, size);
      },
    };
    // Stands for an API request waiting on the event loop.
    let spinning = true;
    const spin = (): void => {
      order.push('io');
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    await new RetentionPruner({ store: traced, maxAgeMs: DAY, batchSize: 10, clock, logger: quiet }).pruneOnce();
    spinning = false;
    const batches = order.map((x, i) => [x, i] as const).filter(([x]) => x === 'batch').map(([, i]) => i);
    assert.equal(batches.length, 5);
    for (let k = 1; k < batches.length; k++) {
      assert.ok(order.slice(batches[k - 1]! + 1, batches[k]).includes('io'), `the event loop ran between batch ${k} and ${k + 1}`);
    }
  });

  it('runs on an interval from start() and stops mid-backlog on stop()', async () => {
    const { store, calls } = backlog(Number.MAX_SAFE_INTEGER);
    const pruner = new RetentionPruner({ store, maxAgeMs: DAY, batchSize: 2, clock, logger: quiet });
    pruner.start(60_000);
    await new Promise((r) => setTimeout(r, 20));
    await pruner.stop();
    const made = calls.length;
    assert.ok(made > 0, 'pruned at start');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls.length, made, 'no batch after stop()');
  });

  it('shares one pass between concurrent pruneOnce() calls', async () => {
    const { store, calls } = backlog(5);
    const pruner = new RetentionPruner({ store, maxAgeMs: DAY, batchSize: 2, clock, logger: quiet });
    const [a, b] = await Promise.all([pruner.pruneOnce(), pruner.pruneOnce()]);
    assert.deepEqual([a, b], [5, 5]);
    assert.equal(calls.length, 3);
  });

  it('refuses a non-positive age or batch size', () => {
    const { store } = backlog(0);
    assert.throws(() => new RetentionPruner({ store, maxAgeMs: 0, batchSize: 1, clock, logger: quiet }), { code: 'validation' });
    assert.throws(() => new RetentionPruner({ store, maxAgeMs: DAY, batchSize: 0, clock, logger: quiet }), { code: 'validation' });
  });
});
