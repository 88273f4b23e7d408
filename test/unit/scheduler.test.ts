import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { SluiceError, ValidationError } from '../../src/core/errors.ts';
import { daily, monthly } from '../../src/sdk/partitions.ts';
import { pipeline, type PipelineOptions } from '../../src/sdk/pipeline.ts';
import { step } from '../../src/sdk/step.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { ScheduleStore } from '../../src/ports/schedule-store.ts';
import { PipelineRegistry, type AnyPipeline } from '../../src/runtime/pipeline-registry.ts';
import { Scheduler, type ScheduledRunRequest, type SchedulerOptions } from '../../src/runtime/scheduler.ts';
import { tickRunId } from '../../src/runtime/schedule-ticks.ts';
import type { Logger } from '../../src/runtime/services.ts';

type Schedules = NonNullable<PipelineOptions<never>['schedules']>;

const def = (name: string, schedules: Schedules, partitions?: AnyPipeline['partitions']): AnyPipeline =>
  pipeline({ name, schedules, ...(partitions ? { partitions } : {}), steps: [step({ name: 's', run: () => undefined })] }) as AnyPipeline;

const registryOf = (...defs: AnyPipeline[]): PipelineRegistry => {
  const r = new PipelineRegistry();
  for (const d of defs) r.add(d, `${d.name}.ts`);
  return r;
};

class Clock {
  t: number;
  constructor(iso: string) {
    this.t = Date.parse(iso);
  }
  now = (): Date => new Date(this.t);
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Line { level: string; obj: object | string; msg: string | undefined }
const recordingLogger = (): Logger & { lines: Line[] } => {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
};

const HOUR = 3_600_000;
const MINUTE = 60_000;

describe('Scheduler', () => {
  let metadata: MetadataStore;
  let store: ScheduleStore;
  let submitted: ScheduledRunRequest[];
  let clock: Clock;
  let logger: ReturnType<typeof recordingLogger>;

  /** Behaves like Coordinator.submit for ids: records the run and refuses an existing id. */
  const submit = async (req: ScheduledRunRequest): Promise<unknown> => {
    if (await metadata.runs.get(req.runId)) throw new SluiceError('conflict', `run ${req.runId} already exists`);
    await metadata.runs.create({ id: req.runId, pipeline: req.pipeline, partition: req.partition ?? null, params: {} });
    submitted.push(req);
    return undefined;
  };

  const scheduler = (registry: PipelineRegistry, over: Partial<SchedulerOptions> = {}): Scheduler =>
    new Scheduler({ registry, store, submit, clock, logger, ...over });

  /** The tick time of each run id, read back from the store. */
  const tickTimes = async (runIds: readonly string[]): Promise<string[]> => {
    const ticks = new Map((await store.listTicks({ limit: 100_000 })).map((t) => [t.runId, t.tickAt]));
    return runIds.map((id) => ticks.get(id) ?? `no tick for run ${id}`);
  };

  /** Moves the clock in steps up to `to`, evaluating after each step; returns the tick times fired. */
  const runUntil = async (s: Scheduler, to: string, stepMs: number): Promise<string[]> => {
    const from = submitted.length;
    while (clock.t < Date.parse(to)) {
      clock.advance(Math.min(stepMs, Date.parse(to) - clock.t));
      await s.tick();
    }
    return tickTimes(submitted.slice(from).map((r) => r.runId));
  };

  before(async () => {
    metadata = await createPgliteMetadataStore();
    await metadata.migrate();
    store = metadata.schedules;
  });
  after(() => metadata.close());
  beforeEach(() => {
    submitted = [];
    logger = recordingLogger();
  });

  describe('validation', () => {
    const bad: [string, Schedules, RegExp][] = [
      ['a bad cron', [{ name: 'nightly', cron: '61 1 * * *' }], /pipeline v schedule "nightly": bad cron "61 1 \* \* \*"/],
      ['six fields', [{ name: 'nightly', cron: '0 0 1 * * *' }], /pipeline v schedule "nightly": bad cron/],
      ['an unknown time zone', [{ name: 'tz', cron: '0 1 * * *', timezone: 'Europe/Atlantis' }],
        /pipeline v schedule "tz": unknown time zone "Europe\/Atlantis"/],
      ['a cron that never fires', [{ name: 'feb30', cron: '0 0 30 2 *' }], /pipeline v schedule "feb30": cron "0 0 30 2 \*" never fires/],
      ['a duplicate name', [{ name: 'x', cron: '0 1 * * *' }, { name: 'x', cron: '0 2 * * *' }], /pipeline v schedule "x" is defined twice/],
      ['a bad partition mode', [{ name: 'p', cron: '0 1 * * *', partition: 'next' as 'current' }], /pipeline v schedule "p": partition must be/],
    ];
    for (const [what, schedules, message] of bad) {
      it(`refuses ${what} at construction, naming pipeline and schedule`, () => {
        clock = new Clock('2024-01-01T00:00:00Z');
        assert.throws(() => scheduler(registryOf(def('ok', [{ cron: '0 1 * * *' }]), def('v', schedules))),
          (err: unknown) => err instanceof ValidationError && message.test(err.message));
      });
    }

    it('accepts nicknames and valid zones', () => {
      clock = new Clock('2024-01-01T00:00:00Z');
      scheduler(registryOf(def('ok', [{ cron: '@daily', timezone: 'America/New_York' }, { cron: '*/5 * * * *' }])));
    });
  });

  it('starts from now on first sight, then fires each due tick exactly once', async () => {
    const p = def('first-sight', [{ name: 'hourly', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T10:30:00Z');
    const s = scheduler(registryOf(p));
    assert.equal(await s.tick(), 0, 'no historical catch-up on first sight');
    assert.match(JSON.stringify(logger.lines), /schedule registered/);
    const fired = await runUntil(s, '2024-01-01T13:05:00Z', 5 * MINUTE);
    assert.deepEqual(fired, ['2024-01-01T11:00:00.000Z', '2024-01-01T12:00:00.000Z', '2024-01-01T13:00:00.000Z']);
    assert.equal(await s.tick(), 0, 'the same instant again fires nothing');
    assert.deepEqual(submitted.map((r) => r.pipeline), ['first-sight', 'first-sight', 'first-sight']);
    assert.equal(new Set(submitted.map((r) => r.runId)).size, 3);
    for (const r of submitted) assert.match(r.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ticks = await store.listTicks({ pipeline: 'first-sight' });
    assert.deepEqual(ticks.map((t) => t.status), ['submitted', 'submitted', 'submitted']);
    assert.equal((await metadata.runs.list({ pipeline: 'first-sight' })).length, 3);
  });

  it('fires a tick that falls exactly on an evaluation once', async () => {
    const p = def('exact', [{ name: 'hourly', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T10:00:00Z');
    const s = scheduler(registryOf(p));
    await s.tick();
    clock.set('2024-01-01T11:00:00Z');
    assert.equal(await s.tick(), 1);
    assert.equal(await s.tick(), 0);
    clock.set('2024-01-01T11:59:59.999Z');
    assert.equal(await s.tick(), 0);
  });

  describe('time zones', () => {
    const london = '0 1 * * *';

    it('reads the cron in the schedule\'s zone, across the spring-forward day', async () => {
      const p = def('tz-spring', [{ name: 'london', cron: london, timezone: 'Europe/London' }, { name: 'utc', cron: london }]);
      clock = new Clock('2024-03-29T12:00:00Z');
      const s = scheduler(registryOf(p));
      await s.tick();
      await runUntil(s, '2024-04-02T12:00:00Z', 20 * MINUTE);
      const ticksOf = async (schedule: string) =>
        (await store.listTicks({ pipeline: 'tz-spring', schedule })).map((t) => t.tickAt).reverse();
      // 01:00 does not exist in London on 31 March (clocks jump 01:00 GMT → 02:00 BST):
      // that day's tick comes at the first instant after the gap, 01:00 UTC.
      assert.deepEqual(await ticksOf('london'), ['2024-03-30T01:00:00.000Z', '2024-03-31T01:00:00.000Z', '2024-04-01T00:00:00.000Z', '2024-04-02T00:00:00.000Z']);
      assert.deepEqual(await ticksOf('utc'), ['2024-03-30T01:00:00.000Z', '2024-03-31T01:00:00.000Z', '2024-04-01T01:00:00.000Z', '2024-04-02T01:00:00.000Z']);
      assert.equal(submitted.length, 8);
    });

    it('fires once on the fall-back day, when 01:00 happens twice in London', async () => {
      const p = def('tz-fall', [{ name: 'london', cron: london, timezone: 'Europe/London' }, { name: 'half-past', cron: '30 * * * *', timezone: 'Europe/London' }]);
      clock = new Clock('2024-10-26T12:00:00Z');
      const s = scheduler(registryOf(p));
      await s.tick();
      await runUntil(s, '2024-10-28T12:00:00Z', 10 * MINUTE);
      const ticksOf = async (schedule: string) =>
        (await store.listTicks({ pipeline: 'tz-fall', schedule, limit: 100 })).map((t) => t.tickAt).reverse();
      assert.deepEqual(await ticksOf('london'), ['2024-10-27T00:00:00.000Z', '2024-10-28T01:00:00.000Z']);
      // An hourly job runs in both 01:30s (BST, then GMT): 48 hours minus none lost.
      const halfPast = await ticksOf('half-past');
      assert.equal(halfPast.length, 48);
      assert.ok(halfPast.includes('2024-10-27T00:30:00.000Z') && halfPast.includes('2024-10-27T01:30:00.000Z'));
      assert.equal(submitted.length, 50);
    });
  });

  describe('partitions', () => {
    it('runs the day that just closed in the schedule\'s zone for "previous", the day of the tick for "current"', async () => {
      const range = daily({ start: '2020-01-01' });
      const p = def('part-daily', [
        { name: 'tokyo-prev', cron: '0 1 * * *', timezone: 'Asia/Tokyo', partition: 'previous' },
        { name: 'tokyo-cur', cron: '0 1 * * *', timezone: 'Asia/Tokyo', partition: 'current' },
        { name: 'utc-prev', cron: '0 1 * * *' },
        { name: 'london-prev', cron: '0 1 * * *', timezone: 'Europe/London' },
      ], range);
      clock = new Clock('2024-03-31T12:00:00Z');
      const s = scheduler(registryOf(p));
      await s.tick();
      clock.set('2024-04-01T02:00:00Z');
      assert.equal(await s.tick(), 4);
      const got = Object.fromEntries((await store.listTicks({ pipeline: 'part-daily' })).map((t) => [t.schedule, [t.tickAt, t.partition]]));
      assert.deepEqual(got, {
        // 01:00 in Tokyo on 1 April is 16:00 UTC on 31 March.
        'tokyo-prev': ['2024-03-31T16:00:00.000Z', '2024-03-31'],
        'tokyo-cur': ['2024-03-31T16:00:00.000Z', '2024-04-01'],
        'utc-prev': ['2024-04-01T01:00:00.000Z', '2024-03-31'],
        // 01:00 BST on 1 April is midnight UTC, still "31 March" if read in UTC.
        'london-prev': ['2024-04-01T00:00:00.000Z', '2024-03-31'],
      });
      assert.deepEqual(new Set(submitted.map((r) => r.partition)), new Set(['2024-03-31', '2024-04-01']));
      // tokyo-cur's 2024-04-01 is a day UTC has not opened at 16:00 on 31 March: the scheduler
      // checked the range itself and tells the coordinator so, or the run would be refused.
      assert.ok(submitted.every((r) => r.allowOutOfRange === true));
    });

    it('runs the month that just closed for "previous" on a monthly pipeline, across a year end', async () => {
      const p = def('part-monthly', [
        { name: 'prev', cron: '0 2 1 * *' },
        { name: 'cur', cron: '0 2 1 * *', partition: 'current' },
        { name: 'ny-prev', cron: '0 0 1 * *', timezone: 'America/New_York' },
      ], monthly({ start: '2023-01' }));
      clock = new Clock('2023-12-20T00:00:00Z');
      const s = scheduler(registryOf(p));
      await s.tick();
      await runUntil(s, '2024-02-15T00:00:00Z', 6 * HOUR);
      const got = (await store.listTicks({ pipeline: 'part-monthly' })).map((t) => `${t.schedule} ${t.tickAt} ${t.partition}`).sort();
      assert.deepEqual(got, [
        'cur 2024-01-01T02:00:00.000Z 2024-01',
        'cur 2024-02-01T02:00:00.000Z 2024-02',
        // Midnight on 1 January in New York is 05:00 UTC.
        'ny-prev 2024-01-01T05:00:00.000Z 2023-12',
        'ny-prev 2024-02-01T05:00:00.000Z 2024-01',
        'prev 2024-01-01T02:00:00.000Z 2023-12',
        'prev 2024-02-01T02:00:00.000Z 2024-01',
      ]);
      assert.equal(submitted.length, 6);
    });

    it('skips, with a log line, a tick whose partition is outside the pipeline\'s range', async () => {
      const p = def('part-range', [{ name: 'nightly', cron: '0 1 * * *' }], daily({ start: '2024-01-10', end: '2024-01-11' }));
      clock = new Clock('2024-01-09T12:00:00Z');
      const s = scheduler(registryOf(p));
      await s.tick();
      await runUntil(s, '2024-01-13T12:00:00Z', HOUR);
      assert.deepEqual(submitted.map((r) => r.partition), ['2024-01-10', '2024-01-11']);
      const ticks = await store.listTicks({ pipeline: 'part-range' });
      assert.deepEqual(ticks.map((t) => [t.partition, t.status]), [
        ['2024-01-12', 'skipped'], ['2024-01-11', 'submitted'], ['2024-01-10', 'submitted'], ['2024-01-09', 'skipped'],
      ]);
      assert.match(ticks[0]!.reason!, /outside/);
      const skips = logger.lines.filter((l) => /skipped/.test(l.msg ?? ''));
      assert.equal(skips.length, 2);
      assert.match(JSON.stringify(skips[0]!.obj), /2024-01-09/);
    });
  });

  it('does not fire a disabled schedule, nor the ticks it missed once enabled again', async () => {
    const p = def('toggle', [{ name: 'hourly', cron: '0 * * * *' }, { name: 'other', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T00:30:00Z');
    const s = scheduler(registryOf(p));
    await s.tick();
    await store.setEnabled('toggle', 'hourly', false);
    assert.deepEqual(await runUntil(s, '2024-01-01T03:30:00Z', 10 * MINUTE),
      ['2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z', '2024-01-01T03:00:00.000Z']);
    await store.setEnabled('toggle', 'hourly', true);
    submitted = [];
    const fired = await runUntil(s, '2024-01-01T04:30:00Z', 10 * MINUTE);
    assert.deepEqual(fired.sort(), [
      ...['2024-01-01T04:00:00.000Z'],
      ...['2024-01-01T04:00:00.000Z'],
    ].sort());
  });

  it('disabled before first sight: never fires until enabled', async () => {
    const p = def('born-disabled', [{ name: 'hourly', cron: '0 * * * *' }]);
    await store.setEnabled('born-disabled', 'hourly', false);
    clock = new Clock('2024-01-01T00:30:00Z');
    const s = scheduler(registryOf(p));
    await runUntil(s, '2024-01-01T05:30:00Z', 30 * MINUTE);
    assert.equal(submitted.length, 0);
  });

  it('after a restart fires the missed ticks once and never the old ones again', async () => {
    const p = def('restart', [{ name: 'hourly', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T00:30:00Z');
    const first = scheduler(registryOf(p));
    await first.tick();
    assert.deepEqual(await runUntil(first, '2024-01-01T02:30:00Z', 10 * MINUTE),
      ['2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z']);
    await first.stop();

    clock.set('2024-01-01T06:10:00Z');
    const second = scheduler(registryOf(p));
    assert.equal(await second.tick(), 4);
    assert.deepEqual(await tickTimes(submitted.slice(2).map((r) => r.runId)),
      ['2024-01-01T03:00:00.000Z', '2024-01-01T04:00:00.000Z', '2024-01-01T05:00:00.000Z', '2024-01-01T06:00:00.000Z']);
    assert.equal(await second.tick(), 0);
    const runs = await metadata.runs.list({ pipeline: 'restart' });
    assert.equal(runs.length, 6);
  });

  it('fires at most catchUp.maxTicks missed ticks, the newest, and says what it dropped', async () => {
    const p = def('catch-up', [{ name: 'hourly', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T00:30:00Z');
    await scheduler(registryOf(p), { catchUp: { maxTicks: 3 } }).tick();
    clock.set('2024-01-02T06:30:00Z');
    const s = scheduler(registryOf(p), { catchUp: { maxTicks: 3 } });
    assert.equal(await s.tick(), 3);
    assert.deepEqual(await tickTimes(submitted.map((r) => r.runId)),
      ['2024-01-02T04:00:00.000Z', '2024-01-02T05:00:00.000Z', '2024-01-02T06:00:00.000Z']);
    const warn = logger.lines.find((l) => l.level === 'warn');
    assert.match(JSON.stringify(warn), /dropped/);
    assert.match(JSON.stringify(warn?.obj), /"droppedFrom":"2024-01-01T01:00:00.000Z"/);
    assert.equal(await s.tick(), 0);
    clock.set('2024-01-02T07:00:00Z');
    assert.equal(await s.tick(), 1);
  });

  it('never double-fires when two schedulers race on one store', async () => {
    const p = def('race', [{ name: 'hourly', cron: '0 * * * *' }, { name: 'quarter', cron: '*/15 * * * *' }]);
    clock = new Clock('2024-01-01T00:00:30Z');
    // Count attempts, not runs: the duplicate-run refusal would hide a lost claim race.
    let calls = 0;
    const counting = (req: ScheduledRunRequest) => {
      calls++;
      return submit(req);
    };
    const a = scheduler(registryOf(p), { submit: counting });
    const b = scheduler(registryOf(p), { submit: counting });
    await Promise.all([a.tick(), b.tick()]);
    let total = 0;
    for (let i = 0; i < 36; i++) {
      clock.advance(10 * MINUTE);
      const [x, y] = await Promise.all([a.tick(), b.tick()]);
      total += x + y;
    }
    // 6 hours: 6 hourly ticks and 24 quarter-hour ticks.
    assert.equal(total, 30);
    assert.equal(calls, 30, 'each tick is submitted by one scheduler only');
    assert.equal(submitted.length, 30);
    assert.equal(new Set(submitted.map((r) => r.runId)).size, 30);
    assert.equal((await metadata.runs.list({ pipeline: 'race', limit: 100 })).length, 30);
  });

  describe('a crash between claim and submit', () => {
    it('re-submits a tick whose submit failed, after retryAfterMs, with the same run id', async () => {
      const p = def('crash-submit', [{ name: 'hourly', cron: '0 * * * *' }]);
      clock = new Clock('2024-01-01T00:30:00Z');
      let failures = 1;
      const flaky = async (req: ScheduledRunRequest) => {
        if (failures-- > 0) throw new Error('connection reset');
        return submit(req);
      };
      const s = scheduler(registryOf(p), { submit: flaky, retryAfterMs: 5 * MINUTE });
      await s.tick();
      clock.set('2024-01-01T01:00:00Z');
      assert.equal(await s.tick(), 0);
      assert.equal((await store.pendingTicks('2024-01-01T01:00:00Z')).filter((t) => t.pipeline === 'crash-submit').length, 1);
      clock.set('2024-01-01T01:04:00Z');
      assert.equal(await s.tick(), 0, 'not before retryAfterMs');
      clock.set('2024-01-01T01:05:00Z');
      assert.equal(await s.tick(), 1);
      assert.deepEqual(submitted.map((r) => r.runId), [tickRunId('crash-submit', 'hourly', '2024-01-01T01:00:00.000Z')]);
      assert.equal(await s.tick(), 0);
      assert.equal((await store.listTicks({ pipeline: 'crash-submit' }))[0]!.status, 'submitted');
    });

    it('a restarted scheduler submits a tick another one claimed and died with', async () => {
      const p = def('crash-claim', [{ name: 'hourly', cron: '0 * * * *' }]);
      clock = new Clock('2024-01-01T00:30:00Z');
      await scheduler(registryOf(p)).tick();
      // The process dies right after claiming the 01:00 tick: nothing else happened.
      const tickAt = '2024-01-01T01:00:00.000Z';
      const runId = tickRunId('crash-claim', 'hourly', tickAt);
      assert.equal(await store.claimTick({ pipeline: 'crash-claim', schedule: 'hourly', tickAt, runId, partition: null, claimedAt: tickAt }), true);
      clock.set('2024-01-01T01:30:00Z');
      const restarted = scheduler(registryOf(p));
      assert.equal(await restarted.tick(), 1);
      assert.deepEqual(submitted.map((r) => r.runId), [runId]);
      assert.equal(await restarted.tick(), 0);
      assert.equal((await metadata.runs.list({ pipeline: 'crash-claim' })).length, 1);
    });

    it('a tick submitted but not marked (crash right after submit) is refused as a duplicate, not run twice', async () => {
      const p = def('crash-mark', [{ name: 'hourly', cron: '0 * * * *' }]);
      clock = new Clock('2024-01-01T00:30:00Z');
      let crash = true;
      const dying: ScheduleStore = {
        claimTick: (t) => store.claimTick(t),
        finishTick: async (...args) => {
          if (crash) throw new Error('process killed');
          return store.finishTick(...args);
        },
        pendingTicks: (...args) => store.pendingTicks(...args),
        advance: (...args) => store.advance(...args),
        setEnabled: (...args) => store.setEnabled(...args),
        listSchedules: (...args) => store.listSchedules(...args),
        listTicks: (...args) => store.listTicks(...args),
        pruneHistory: (...args) => store.pruneHistory(...args),
      };
      const s = scheduler(registryOf(p), { store: dying });
      await s.tick();
      clock.set('2024-01-01T01:00:00Z');
      await s.tick();
      assert.equal(submitted.length, 1);
      crash = false;
      clock.set('2024-01-01T01:30:00Z');
      const restarted = scheduler(registryOf(p));
      assert.equal(await restarted.tick(), 0, 'the duplicate is not counted as a new run');
      assert.equal(submitted.length, 1);
      assert.equal((await metadata.runs.list({ pipeline: 'crash-mark' })).length, 1);
      const [t] = await store.listTicks({ pipeline: 'crash-mark' });
      assert.equal(t!.status, 'submitted');
      assert.match(JSON.stringify(logger.lines), /already submitted/);
    });

    it('treats a unique violation from a concurrent insert as a duplicate too', async () => {
      const p = def('crash-unique', [{ name: 'hourly', cron: '0 * * * *' }]);
      clock = new Clock('2024-01-01T00:30:00Z');
      const s = scheduler(registryOf(p), {
        submit: async () => {
          throw Object.assign(new Error('duplicate key value violates unique constraint "runs_pkey"'), { code: '23505' });
        },
      });
      await s.tick();
      clock.set('2024-01-01T01:00:00Z');
      assert.equal(await s.tick(), 0);
      assert.equal((await store.listTicks({ pipeline: 'crash-unique' }))[0]!.status, 'submitted');
    });
  });

  it('marks a tick failed, without retrying, when the submit is refused for good', async () => {
    const p = def('refused', [{ name: 'hourly', cron: '0 * * * *' }]);
    clock = new Clock('2024-01-01T00:30:00Z');
    let calls = 0;
    const s = scheduler(registryOf(p), {
      retryAfterMs: 0,
      submit: async () => {
        calls++;
        throw new ValidationError('pipeline refused: bad param source: Required', 'source');
      },
    });
    await s.tick();
    clock.set('2024-01-01T01:00:00Z');
    await s.tick();
    clock.set('2024-01-01T01:10:00Z');
    await s.tick();
    assert.equal(calls, 1);
    const [t] = await store.listTicks({ pipeline: 'refused' });
    assert.deepEqual([t!.status, t!.reason], ['failed', 'pipeline refused: bad param source: Required']);
  });

  it('start() evaluates on an interval until stop()', async () => {
    const p = def('looping', [{ name: 'minutely', cron: '* * * * *' }]);
    clock = new Clock('2024-01-01T00:00:30Z');
    const s = scheduler(registryOf(p));
    s.start(5);
    await new Promise((r) => setTimeout(r, 40));
    clock.set('2024-01-01T00:03:30Z');
    await new Promise((r) => setTimeout(r, 60));
    await s.stop();
    assert.equal(submitted.length, 3);
    clock.set('2024-01-01T00:10:30Z');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(submitted.length, 3, 'nothing fires after stop()');
  });

  it('derives run ids from pipeline, schedule and tick time only', () => {
    const a = tickRunId('p', 's', '2024-01-01T00:00:00.000Z');
    assert.equal(a, tickRunId('p', 's', '2024-01-01T00:00:00.000Z'));
    assert.notEqual(a, tickRunId('p', 's', '2024-01-01T00:01:00.000Z'));
    assert.notEqual(a, tickRunId('p', 't', '2024-01-01T00:00:00.000Z'));
    assert.notEqual(tickRunId('p', 'a,b', 'x'), tickRunId('p,a', 'b', 'x'));
  });
});
