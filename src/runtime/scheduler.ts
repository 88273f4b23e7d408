import { SluiceError, ValidationError, describeError } from '../core/errors.ts';
import { METRICS } from '../core/metric-catalogue.ts';
import { partitionWindow } from '../core/partitions.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { NewTick, ScheduleState, ScheduleStore, TickOutcome, TickRecord } from '../ports/schedule-store.ts';
import type { AnyPipeline } from './pipeline-registry.ts';
import { compileSchedules, dueTicks, tickPartition, tickRunId, type CompiledSchedule } from './schedule-ticks.ts';
import { catalogued, type CataloguedMetrics } from './catalogued-metrics.ts';
import { Periodic } from './periodic.ts';
import type { Logger } from './services.ts';

/** What the scheduler asks for; `Coordinator.submit` accepts it as is. */
export interface ScheduledRunRequest {
  readonly pipeline: string;
  readonly partition?: string | null;
  readonly params?: Record<string, unknown>;
  /** Derived from the tick, so a second submit of the same tick is refused as a duplicate. */
  readonly runId: string;
  /**
   * Set: the scheduler checked the tick's partition against the pipeline's range itself, and
   * read "current" in the schedule's time zone, which may be a day ahead of UTC's open one.
   */
  readonly allowOutOfRange?: boolean;
}

export interface SchedulerOptions {
  readonly registry: { list(): readonly AnyPipeline[] };
  readonly store: ScheduleStore;
  readonly submit: (req: ScheduledRunRequest) => Promise<unknown>;
  readonly clock: { now(): Date };
  readonly logger: Logger;
  /** At most this many missed ticks per schedule are fired after downtime (default 10); older ones are dropped. */
  readonly catchUp?: { readonly maxTicks: number };
  /**
   * A tick claimed this long ago without a result is submitted again: its claimer died
   * between claim and submit, or the submit failed in a way worth retrying. Default 60 s.
   */
  readonly retryAfterMs?: number;
  /** Where evaluations, tick outcomes and each schedule's next tick are counted (the metric catalogue's `schedule*`). */
  readonly metrics?: Metrics;
}

const DEFAULT_MAX_TICKS = 10;
const DEFAULT_RETRY_AFTER_MS = 60_000;

const keyOf = (pipeline: string, schedule: string): string => JSON.stringify([pipeline, schedule]);

/**
 * The submit was refused because the run already exists: the coordinator's `conflict`,
 * or the unique violation of a concurrent insert of the same id.
 */
function isDuplicateRun(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'conflict' || code === '23505';
}

/**
 * Fires cron schedules. Each evaluation computes the ticks due since the schedule's
 * evaluated-through instant, claims each in the store (so several schedulers on one
 * database fire a tick once), submits a run whose id is derived from the tick, and records
 * the result. A tick claimed but never reported (a crash) is submitted again later; the
 * derived run id makes that retry a refused duplicate if the first submit got through.
 */
export class Scheduler {
  readonly #registry: SchedulerOptions['registry'];
  /** Compiled from the registry's pipelines, again whenever a reload changed them. */
  #compiled: { readonly from: readonly AnyPipeline[]; readonly schedules: readonly CompiledSchedule[] };
  readonly #store: ScheduleStore;
  readonly #submit: SchedulerOptions['submit'];
  readonly #clock: SchedulerOptions['clock'];
  readonly #logger: Logger;
  readonly #maxTicks: number;
  readonly #retryAfterMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #loop: Periodic;
  readonly #metrics: CataloguedMetrics | null;

  constructor(options: SchedulerOptions) {
    const maxTicks = options.catchUp?.maxTicks ?? DEFAULT_MAX_TICKS;
    if (!Number.isInteger(maxTicks) || maxTicks < 1) {
      throw new ValidationError(`catchUp.maxTicks must be a positive integer, got ${maxTicks}`, 'catchUp.maxTicks');
    }
    const retryAfterMs = options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    if (!(retryAfterMs >= 0)) throw new ValidationError(`retryAfterMs must be >= 0, got ${retryAfterMs}`, 'retryAfterMs');
    this.#registry = options.registry;
    const from = options.registry.list();
    this.#compiled = { from, schedules: compileSchedules(from) };
    this.#store = options.store;
    this.#submit = options.submit;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#maxTicks = maxTicks;
    this.#retryAfterMs = retryAfterMs;
    this.#loop = new Periodic(() => this.tick(), options.logger, 'scheduler evaluation');
    this.#metrics = options.metrics ? catalogued(options.metrics) : null;
  }

  #schedules(): readonly CompiledSchedule[] {
    const from = this.#registry.list();
    const prev = this.#compiled.from;
    if (from.length !== prev.length || from.some((p, i) => p !== prev[i])) this.#compiled = { from, schedules: compileSchedules(from) };
    return this.#compiled.schedules;
  }

  /** Evaluates now, then every `intervalMs`; evaluations never overlap. */
  start(intervalMs: number): void {
    this.#loop.start(intervalMs);
  }

  /** Stops the loop and waits for an evaluation in progress. */
  async stop(): Promise<void> {
    this.#loop.stop();
    await this.#queue.catch(() => undefined);
  }

  /** Evaluates every schedule at the clock's now; returns how many runs were submitted. */
  tick(): Promise<number> {
    const next = this.#queue.catch(() => undefined).then(() => this.#evaluate());
    this.#queue = next;
    return next;
  }

  async #evaluate(): Promise<number> {
    const now = this.#clock.now();
    this.#metrics?.inc(METRICS.schedulerEvaluations, {});
    const states = new Map((await this.#store.listSchedules()).map((s) => [keyOf(s.pipeline, s.schedule), s]));
    let submitted = 0;
    const stale = await this.#store.pendingTicks(new Date(now.getTime() - this.#retryAfterMs).toISOString());
    for (const t of stale) submitted += await this.#guard(t, () => this.#retry(t, states));
    for (const s of this.#schedules()) {
      const state = states.get(keyOf(s.pipeline.name, s.def.name));
      submitted += await this.#guard({ pipeline: s.pipeline.name, schedule: s.def.name }, () => this.#evaluateSchedule(s, state, now));
    }
    return submitted;
  }

  /** One schedule's failure (a store error) must not stop the others. */
  async #guard(where: { pipeline: string; schedule: string }, fn: () => Promise<number>): Promise<number> {
    try {
      return await fn();
    } catch (err) {
      this.#logger.error({ pipeline: where.pipeline, schedule: where.schedule, err: describeError(err) }, 'schedule evaluation failed');
      return 0;
    }
  }

  async #evaluateSchedule(s: CompiledSchedule, state: ScheduleState | undefined, now: Date): Promise<number> {
    const pipeline = s.pipeline.name;
    const schedule = s.def.name;
    const nowIso = now.toISOString();
    // Watched by the SluiceScheduleMissed alert: a next tick that stays in the past was not fired.
    const next = state?.enabled === false ? null : s.cron.nextRun(now);
    this.#metrics?.set(METRICS.scheduleNextTick, { pipeline, schedule }, next ? next.getTime() / 1000 : 0);
    // At 0 from the first evaluation, so the first tick shows as an increase.
    for (const outcome of ['submitted', 'skipped', 'failed'] as const) this.#metrics?.inc(METRICS.scheduleTicks, { pipeline, schedule, outcome }, 0);
    if (state === undefined || state.evaluatedThrough === null) {
      // First sight: start from now rather than firing the schedule's whole history.
      await this.#store.advance(pipeline, schedule, nowIso);
      this.#logger.info({ pipeline, schedule, cron: s.def.cron, timezone: s.def.timezone,
        nextTickAt: s.cron.nextRun(now)?.toISOString() ?? null }, 'schedule registered');
      return 0;
    }
    if (!state.enabled) {
      // Ticks while disabled are passed over, so enabling it again does not fire them.
      await this.#store.advance(pipeline, schedule, nowIso);
      return 0;
    }
    const { ticks, droppedFrom } = dueTicks(s.cron, new Date(state.evaluatedThrough), now, this.#maxTicks);
    if (droppedFrom !== null) {
      this.#logger.warn({ pipeline, schedule, droppedFrom: droppedFrom.toISOString(), firstFired: ticks[0]?.toISOString(),
        maxTicks: this.#maxTicks }, 'missed ticks beyond the catch-up limit were dropped');
    }
    const won: NewTick[] = [];
    for (const at of ticks) {
      const tickAt = at.toISOString();
      const partition = s.pipeline.partitions ? tickPartition(s.pipeline.partitions.granularity, s.def.partition, at, s.def.timezone) : null;
      const tick: NewTick = { pipeline, schedule, tickAt, runId: tickRunId(pipeline, schedule, tickAt), partition, claimedAt: nowIso };
      if (await this.#store.claimTick(tick)) won.push(tick);
    }
    // Claims first, then the cursor: a crash in between leaves claimed ticks, which are retried.
    await this.#store.advance(pipeline, schedule, nowIso);
    let submitted = 0;
    for (const tick of won) submitted += await this.#fire(s.pipeline, tick);
    return submitted;
  }

  async #retry(t: TickRecord, states: ReadonlyMap<string, ScheduleState>): Promise<number> {
    const s = this.#schedules().find((x) => x.pipeline.name === t.pipeline && x.def.name === t.schedule);
    if (s === undefined) {
      await this.#finish(t, { status: 'failed', reason: `pipeline ${t.pipeline} has no schedule "${t.schedule}" any more` });
      return 0;
    }
    if (states.get(keyOf(t.pipeline, t.schedule))?.enabled === false) {
      await this.#finish(t, { status: 'skipped', reason: 'schedule disabled' });
      return 0;
    }
    this.#logger.info({ pipeline: t.pipeline, schedule: t.schedule, tickAt: t.tickAt, runId: t.runId }, 'retrying a tick claimed but not submitted');
    return this.#fire(s.pipeline, t);
  }

  async #fire(def: AnyPipeline, tick: NewTick): Promise<number> {
    const log = { pipeline: tick.pipeline, schedule: tick.schedule, tickAt: tick.tickAt, runId: tick.runId, partition: tick.partition };
    if (tick.partition !== null && def.partitions) {
      try {
        partitionWindow(def.partitions, tick.partition);
      } catch (err) {
        const reason = describeError(err);
        this.#logger.info({ ...log, reason }, 'schedule tick skipped: partition outside the pipeline\'s range');
        await this.#finish(tick, { status: 'skipped', reason });
        return 0;
      }
    }
    try {
      await this.#submit({ pipeline: tick.pipeline, runId: tick.runId, ...(tick.partition !== null ? { partition: tick.partition, allowOutOfRange: true } : {}) });
    } catch (err) {
      if (isDuplicateRun(err)) {
        this.#logger.info(log, 'schedule tick was already submitted');
        await this.#finish(tick, { status: 'submitted' });
        return 0;
      }
      if (err instanceof SluiceError && !err.retryable) {
        this.#logger.error({ ...log, err: describeError(err) }, 'schedule tick failed to submit');
        await this.#finish(tick, { status: 'failed', reason: describeError(err) });
        return 0;
      }
      this.#logger.warn({ ...log, err: describeError(err), retryAfterMs: this.#retryAfterMs }, 'schedule tick submit failed; will retry');
      return 0;
    }
    await this.#finish(tick, { status: 'submitted' });
    this.#logger.info(log, 'schedule tick submitted');
    return 1;
  }

  #finish(tick: NewTick, outcome: TickOutcome): Promise<void> {
    this.#metrics?.inc(METRICS.scheduleTicks, { pipeline: tick.pipeline, schedule: tick.schedule, outcome: outcome.status });
    return this.#store.finishTick(tick, outcome, this.#clock.now().toISOString());
  }
}
