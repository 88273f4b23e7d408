import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, describeError } from '../core/errors.ts';
import { canTransitionStep, isTerminalRun } from '../core/states.ts';
import { parseAttemptEvent, type AttemptEvent, type StreamPosition } from '../core/events.ts';
import { pongSchema, type Pong } from '../core/commands.ts';
import { backoffDelay } from '../core/retry.ts';
import { decideScale } from '../core/stream-scale.ts';
import { finalRunStatus, readySteps } from '../core/run-plan.ts';
import { admitRunPartition, type PartitionChoice } from '../core/run-partition.ts';
import { TOPICS, type Subscription } from '../ports/event-bus.ts';
import type { Launcher } from '../ports/launcher.ts';
import type { RunDetail, RunRecord } from '../ports/metadata-store.ts';
import { parseParams } from '../sdk/pipeline.ts';
import { loadOpenRuns, newActiveRun, newStepState, replicasOf, type ActiveRun, type StepState } from './active-run.ts';
import { applyAttemptEvent, type EventContext } from './apply-attempt-event.ts';
import { lostFailure } from './attempt-failure.ts';
import { HealthMonitor } from './health-monitor.ts';
import type { AnyPipeline, PipelineRegistry } from './pipeline-registry.ts';
import { decideRetry, type RetryDecision } from './retry-decision.ts';
import { RunMetrics } from './run-metrics.ts';
import { RunQueue } from './run-queue.ts';
import { RunSteps } from './run-steps.ts';
import { StreamBoard, type StreamReport } from './stream-board.ts';
import type { RunListener } from './run-updates.ts';
import type { Services } from './services.ts';

/** `allPartitions` and `allowOutOfRange` (PartitionChoice) are checked by admitRunPartition. */
export interface RunRequest extends PartitionChoice {
  readonly pipeline: string;
  readonly params?: Record<string, unknown>;
  readonly partition?: string | null;
  readonly backfillId?: string | null;
  /** A caller-chosen id (e.g. derived from a schedule tick); an existing id is refused. */
  readonly runId?: string;
  /** Re-execution of an earlier run: its succeeded steps are reused, not run again. */
  readonly retryOf?: string;
}

const nowIso = () => new Date().toISOString();
/** A stream is named by its step; the replicas of a scaled one share it (and its positions). */
const streamOf = (run: ActiveRun, step: StepState) => `${run.def.name}.${step.def.name}`;
/** A stream attempt that ran this long counts as healthy: its failure does not extend the backoff. */
const STREAM_HEALTHY_MS = 60_000;

export interface CoordinatorOptions {
  readonly heartbeatMs: number;
  /** Missed heartbeats before an attempt is lost (default 3). */
  readonly missedHeartbeats?: number;
  /** How long a dispatched attempt may wait for a worker (default 60 s). */
  readonly startTimeoutMs?: number;
  /** After a cancel, how long an attempt may take to stop before it is killed (default 10 s). */
  readonly cancelGraceMs?: number;
  /** Runs executing at once across all pipelines (default 16); more wait `queued`. */
  readonly maxConcurrentRuns?: number;
  /** How often the lag of streams that scale (`scale`) is weighed (default 5 s). */
  readonly scaleCheckMs?: number;
}

/**
 * Advances runs as events arrive: admits runs (RunQueue), dispatches ready steps through the
 * launcher, applies their events (applyAttemptEvent), retry policy and cancellation, and ends
 * runs. What it decides is recorded by RunSteps. Events from attempts it no longer waits for
 * (replayed, late, fenced off) change nothing.
 */
export class Coordinator {
  readonly #services: Services;
  readonly #registry: PipelineRegistry;
  readonly #launcher: Launcher;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #pongListeners = new Set<(p: Pong) => void>();
  readonly #queue: RunQueue;
  readonly #steps: RunSteps;
  readonly #metrics: RunMetrics;
  readonly #events: EventContext;
  readonly #opts: Required<CoordinatorOptions>;
  readonly #health: HealthMonitor;
  #subscription: Subscription | null = null;
  #scaleTimer: NodeJS.Timeout | null = null;
  readonly #board: StreamBoard;
  /** Every stream's committed positions, by stream then `topic/partition`: what the next launch starts from. */
  readonly #positions = new Map<string, Map<string, StreamPosition>>();

  constructor(services: Services, registry: PipelineRegistry, launcher: Launcher, options: CoordinatorOptions) {
    this.#services = services;
    this.#registry = registry;
    this.#launcher = launcher;
    this.#opts = { missedHeartbeats: 3, startTimeoutMs: 60_000, cancelGraceMs: 10_000, maxConcurrentRuns: 16, scaleCheckMs: 5_000, ...options };
    this.#queue = new RunQueue(this.#opts.maxConcurrentRuns);
    this.#health = new HealthMonitor(
      { heartbeatMs: this.#opts.heartbeatMs, missedHeartbeats: this.#opts.missedHeartbeats, startTimeoutMs: this.#opts.startTimeoutMs,
        report: (n) => this.#metrics.attemptsInFlight(n) },
      (attemptId, silentMs) => void this.#lost(attemptId, silentMs).catch((err) => this.#fault('lost-attempt handling', err)),
    );
    this.#metrics = new RunMetrics(services.metrics);
    this.#board = new StreamBoard(services.metrics);
    this.#steps = new RunSteps({
      store: services.metadata, health: this.#health, metrics: this.#metrics, logger: services.logger,
      ended: (run, step, attemptId) => step.def.stream && this.#board.ended(run.def.name, step.def.name, attemptId),
    });
    this.#events = {
      steps: this.#steps, metrics: this.#metrics, gauges: services.metadata.gauges, logger: services.logger,
      driver: {
        advance: (run) => this.#advance(run), settleFailure: (run, step, d, error) => this.#settleFailure(run, step, d, error),
        handOver: (run, step) => this.#handOver(run, step),
      },
      streams: {
        offsets: (run, step, offsets) => {
          const stream = streamOf(run, step);
          const known = this.#positionsOf(stream);
          const updatedAt = nowIso();
          for (const o of offsets) {
            known.set(`${o.topic}/${o.partition}`, o);
            this.#steps.writes.offset({ stream, ...o, runId: run.record.id, updatedAt });
          }
        },
        status: (run, ev) => this.#board.report(run.def.name, ev),
      },
    };
  }

  /** Subscribes to events, takes over runs a previous control plane left unfinished, starts the health monitor. */
  async start(): Promise<void> {
    for (const def of this.#registry.list()) this.#declare(def);
    for (const o of await this.#services.metadata.streams.list()) {
      this.#positionsOf(o.stream).set(`${o.topic}/${o.partition}`, { topic: o.topic, partition: o.partition, offset: o.offset, pendingEnd: o.pendingEnd });
    }
    this.#subscription = await this.#services.bus.subscribe(TOPICS.events, { group: 'sluice-coordinator' }, (m) =>
      this.#onEvent(m.value),
    );
    await this.#recover();
    this.#health.start();
    this.#scaleTimer = setInterval(() => void this.#weighLag().catch((err) => this.#fault('scaling on lag', err)), this.#opts.scaleCheckMs);
    this.#scaleTimer.unref();
  }

  async #recover(): Promise<void> {
    for (const run of await loadOpenRuns(this.#services.metadata, this.#registry)) {
      if (this.#runs.has(run.record.id)) continue;
      this.#runs.set(run.record.id, run);
      for (const s of run.steps) if (s.status === 'running' && s.attemptId) this.#steps.watch(run, s, true);
      this.#services.logger.info({ run: run.record.id, pipeline: run.def.name }, 'resuming run after restart');
      this.#steps.record(run, 'run.resumed', null, null, {});
      if (run.record.status === 'queued') this.#queue.push(run);
      else {
        for (const s of run.steps) if (s.status === 'retrying') this.#dispatch(run, s);
        await this.#advance(run);
      }
    }
    await this.#pump();
  }

  /** Starts queued runs while the limits allow, oldest first. */
  async #pump(): Promise<void> {
    for (let run = this.#queue.take(this.#running()); run; run = this.#queue.take(this.#running())) await this.#begin(run);
    this.#metrics.admission(this.#queue.size, this.#running().length);
    await this.#steps.writes.flush();
  }

  #running(): ActiveRun[] {
    return [...this.#runs.values()].filter((r) => r.record.status === 'running');
  }

  async #begin(run: ActiveRun): Promise<void> {
    const startedAt = nowIso();
    run.record = { ...run.record, status: 'running', startedAt };
    this.#steps.writes.run({ id: run.record.id, status: 'running', startedAt });
    this.#steps.notify({ kind: 'run', runId: run.record.id, pipeline: run.def.name, status: 'running', error: null });
    await this.#advance(run);
  }

  async #lost(attemptId: string, silentMs: number): Promise<void> {
    const hit = this.#steps.current(attemptId);
    if (!hit) return;
    const { run, step } = hit;
    const why = `attempt ${step.attempt} lost: no sign of life for ${(silentMs / 1000).toFixed(1)} s`;
    this.#services.logger.warn({ run: run.record.id, step: step.name, attempt: attemptId }, why);
    this.#metrics.attemptLost(run.def.name, step.name);
    const decision = run.cancelled ? null : decideRetry(step.def.retry, step.attempt, { retryable: true });
    const failure = lostFailure(why, decision);
    this.#steps.endAttempt(run, step, 'lost', why, failure);
    this.#steps.record(run, 'attempt.lost', step.name, attemptId, { attempt: step.attempt, silentMs, notRetried: failure.notRetried });
    if (this.#launcher.canKill) void this.#launcher.kill(attemptId).catch(() => undefined);
    await this.#settleFailure(run, step, decision, why);
    await this.#advance(run);
    await this.#steps.writes.flush();
  }

  async #settleFailure(run: ActiveRun, step: StepState, decision: RetryDecision | null, error: string): Promise<void> {
    if (decision === null && this.#handOver(run, step)) return;
    if (decision === null) this.#steps.setStep(run, step, 'cancelled', error);
    else if (decision.retry) this.#retryLater(run, step, error);
    else {
      this.#steps.setStep(run, step, 'failed', error);
      this.#steps.skipAfter(run, step, `upstream step ${step.name} failed`);
    }
  }

  /** Workers' answers to `ping`; returns the unsubscribe function. */
  onPong(listener: (p: Pong) => void): () => void {
    this.#pongListeners.add(listener);
    return () => this.#pongListeners.delete(listener);
  }

  /** Live updates of every run this coordinator drives; returns the unsubscribe function. */
  onUpdate(listener: RunListener): () => void {
    return this.#steps.onUpdate(listener);
  }

  /** Validates the request, records the run and starts it. `done` settles when the run ends. */
  async submit(req: RunRequest): Promise<{ run: RunRecord; done: Promise<RunDetail> }> {
    const def = this.#registry.get(req.pipeline);
    // A pipeline added by a reload since start.
    this.#declare(def);
    const params = parseParams(def, req.params ?? {});
    // A retry repeats the partition its run was admitted with.
    const partition = req.retryOf === undefined ? admitRunPartition(def, req, new Date()) : (req.partition ?? null);
    const { metadata } = this.#services;
    if (req.runId !== undefined && (await metadata.runs.get(req.runId))) {
      throw new ConflictError(`run ${req.runId} already exists`);
    }
    // Two runs of one stream would read the same offsets and write every batch twice over.
    // A pipeline limited to one run at a time queues the second instead (its streams end).
    if (def.steps.some((s) => s.stream) && def.concurrency !== 1) {
      const busy = [...this.#runs.values()].find((r) => r.def.name === def.name);
      if (busy) throw new ConflictError(`pipeline ${def.name} has stream steps and run ${busy.record.id} of it is still ${busy.record.status}: stop it first (sluice stop ${busy.record.id})`);
    }
    const parent = req.retryOf ? await this.#retriedRun(req.retryOf, def.name) : null;
    const record = await metadata.runs.create({
      id: req.runId ?? randomUUID(),
      pipeline: def.name,
      partition,
      params: params as Record<string, unknown>,
      backfillId: req.backfillId ?? null,
      status: 'queued',
      parentRunId: parent?.id ?? null,
      rootRunId: parent ? (parent.rootRunId ?? parent.id) : null,
    });
    const reused = parent?.reused ?? new Set<string>();
    const run = newActiveRun(record, def, reused);
    this.#runs.set(record.id, run);
    for (const s of run.steps) this.#steps.saveStep(run, s);
    this.#steps.record(run, 'run.started', null, null, { partition, params, retryOf: req.retryOf ?? null, reused: [...reused] });
    this.#queue.push(run);
    await this.#pump();
    return { run: record, done: run.done.promise };
  }

  /**
   * Re-executes a finished run that did not succeed: same pipeline, params and partition;
   * steps that succeeded (and were not blocked by a check) are reused, the rest run again.
   */
  async retry(runId: string): Promise<{ run: RunRecord; done: Promise<RunDetail> }> {
    const prev = await this.#services.metadata.runs.get(runId);
    if (!prev) throw new NotFoundError('run', runId);
    if (!isTerminalRun(prev.run.status)) throw new ConflictError(`run ${runId} is still ${prev.run.status}`);
    if (prev.run.status === 'succeeded') throw new ConflictError(`run ${runId} succeeded; nothing to retry`);
    // A no_data run may be retried: the source can have the partition's data by now.
    return this.submit({ pipeline: prev.run.pipeline, params: prev.run.params, partition: prev.run.partition, retryOf: runId });
  }

  /** Whether this coordinator is driving the run right now. */
  isActive(runId: string): boolean {
    return this.#runs.has(runId);
  }

  /** The run a retry comes from, with the steps it reuses (those that succeeded unblocked). */
  async #retriedRun(runId: string, pipeline: string): Promise<RunRecord & { reused: Set<string> }> {
    const prev = await this.#services.metadata.runs.get(runId);
    if (!prev || prev.run.pipeline !== pipeline) throw new NotFoundError('run', runId);
    return { ...prev.run, reused: new Set(prev.steps.filter((s) => s.status === 'succeeded' && s.reason === null).map((s) => s.step)) };
  }

  /** Stops a run: pending steps end cancelled, running attempts are told to stop. */
  async cancel(runId: string, reason = 'cancelled by user'): Promise<boolean> {
    const run = this.#runs.get(runId);
    if (!run) return false;
    run.cancelled = true;
    for (const t of run.timers) clearTimeout(t);
    if (this.#queue.remove(run)) this.#metrics.admission(this.#queue.size, this.#running().length);
    for (const s of [...run.steps]) {
      if (s.status === 'pending' || s.status === 'retrying') this.#steps.setStep(run, s, 'cancelled', reason);
      // A replica between two replica counts has committed everything it read: stopped, it is done.
      else if (s.status === 'running' && !this.#alive(s)) this.#steps.setStep(run, s, 'succeeded', null);
      else if (s.status === 'running' && s.attemptId) {
        await this.#stop(s, reason);
        this.#killAfterGrace(run, s, s.attemptId, reason);
      }
    }
    await this.#maybeFinish(run);
    await this.#steps.writes.flush();
    return true;
  }

  /**
   * An attempt that ignores its AbortSignal is killed after the grace period and fenced
   * off, so cancel always ends the run.
   */
  #killAfterGrace(run: ActiveRun, step: StepState, attemptId: string, reason: string): void {
    const t = setTimeout(() => {
      run.timers.delete(t);
      if (step.attemptId !== attemptId || step.status !== 'running') return;
      void (async () => {
        if (this.#launcher.canKill) await this.#launcher.kill(attemptId).catch(() => undefined);
        this.#steps.endAttempt(run, step, 'cancelled', `${reason}; killed after ${this.#opts.cancelGraceMs} ms`);
        // A replica killed for a new replica count: its pending batch is replayed by the partition's next owner.
        if (!this.#handOver(run, step)) this.#steps.setStep(run, step, 'cancelled', reason);
        await this.#advance(run);
        await this.#steps.writes.flush();
      })().catch((err) => this.#fault('cancel grace handling', err));
    }, this.#opts.cancelGraceMs);
    run.timers.add(t);
  }

  async close(): Promise<void> {
    this.#health.stop();
    if (this.#scaleTimer) clearInterval(this.#scaleTimer);
    await this.#subscription?.close();
    for (const run of this.#runs.values()) for (const t of run.timers) clearTimeout(t);
  }

  async #onEvent(raw: unknown): Promise<void> {
    if ((raw as { type?: unknown } | null)?.type === 'pong') {
      const pong = pongSchema.safeParse(raw);
      if (pong.success) for (const l of this.#pongListeners) l(pong.data);
      return;
    }
    let ev: AttemptEvent;
    try {
      ev = parseAttemptEvent(raw);
    } catch (err) {
      this.#services.logger.warn({ err: describeError(err) }, 'dropped an invalid event');
      return;
    }
    const hit = this.#steps.current(ev.attemptId);
    // Not an attempt we wait for: a replay, a late event from a fenced-off attempt, or
    // another coordinator's run.
    if (!hit || ev.seq <= hit.step.lastSeq) return;
    const { run, step } = hit;
    step.lastSeq = ev.seq;
    this.#health.seen(ev.attemptId, true);
    this.#metrics.eventApplied(ev.type, ev.ts);
    await applyAttemptEvent(this.#events, run, step, ev);
    // Told to stop before it was up (a pod still starting has not subscribed to commands yet):
    // now that it runs, it hears it.
    if (ev.type === 'attempt.started' && step.stopAsked !== null && this.#alive(step)) {
      await this.#launcher.terminate(ev.attemptId, step.stopAsked).catch((err) => this.#fault('stopping an attempt', err));
    }
    // Not awaited: events that arrive together share one transaction. Losing the tail of
    // it in a crash is safe: the attempt then looks running, the health monitor finds it
    // silent, and it runs again (at-least-once, with idempotent sinks).
    this.#steps.writes.flushSoon();
  }

  #retryLater(run: ActiveRun, step: StepState, error: string): void {
    // A stream that ran for a while before it failed starts its backoff again: it heals from a
    // crash after days as fast as from its first.
    const ranFor = Date.now() - Date.parse(step.attemptStartedAt ?? '');
    const delay = backoffDelay(step.def.retry, step.def.stream && ranFor > STREAM_HEALTHY_MS ? 1 : step.attempt);
    this.#steps.setStep(run, step, 'retrying', error);
    this.#metrics.attemptRetried(run.def.name, step.name);
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      this.#dispatch(run, step);
      void this.#steps.writes.flush().catch((err) => this.#fault('dispatch', err));
    }, delay);
    run.timers.add(timer);
  }

  async #advance(run: ActiveRun): Promise<void> {
    for (const [step, scale] of run.scale) if (scale.target !== null) this.#rescaled(run, step);
    if (!run.cancelled) for (const s of readySteps(run.steps)) this.#dispatch(run, s);
    await this.#maybeFinish(run);
  }

  #dispatch(run: ActiveRun, step: StepState): void {
    // A retry timer that fires after the step was cancelled (or otherwise ended) starts nothing.
    const between = step.status === 'running' && !this.#alive(step);
    if (run.cancelled || !(between || canTransitionStep(step.status, 'running'))) return;
    // While a stream changes its replica count, no replica starts until all have stopped.
    const scale = step.def.scale ? run.scale.get(step.def.name) : undefined;
    if (scale?.target != null) return;
    const attemptId = this.#steps.startAttempt(run, step);
    // Not awaited, so the starts of parallel steps go out together. A start that never
    // arrives is caught by the health monitor's start timeout and dispatched again.
    this.#launcher
      .launch({
        runId: run.record.id, attemptId, attempt: step.attempt, pipeline: run.def.name, step: step.def.name,
        params: run.record.params, partition: run.record.partition, timeoutMs: step.def.timeoutMs,
        version: this.#registry.versionOf(run.def), placement: step.def.placement,
        ...(step.def.stream ? { offsets: [...this.#positionsOf(streamOf(run, step)).values()] } : {}),
        ...(scale ? { shard: { index: step.shard, count: scale.count } } : {}),
      })
      .catch((err) => this.#services.logger.error({ err: describeError(err), attempt: attemptId }, 'launch failed; the start timeout will retry it'));
  }

  /** Tells the step's current attempt to stop, remembering why (see #onEvent). */
  async #stop(step: StepState, reason: string): Promise<void> {
    step.stopAsked = reason;
    await this.#launcher.terminate(step.attemptId!, reason);
  }

  /** Whether the step has an attempt under way (the id of an ended one stays on the step). */
  #alive(step: StepState): boolean {
    return step.attemptId !== null && this.#steps.current(step.attemptId) !== undefined;
  }

  /** A replica that stopped because its stream changes its replica count (not because the run stops). */
  #handOver(run: ActiveRun, step: StepState): boolean {
    return !run.cancelled && step.def.scale !== null && run.scale.get(step.def.name)?.target != null && step.status === 'running';
  }

  /**
   * Weighs the lag of every stream that scales, in the runs driven here: once each of its
   * replicas has reported, the lag (summed over partitions) asks for a replica count
   * (decideScale); a different count stops every replica, and #rescaled starts the new set.
   */
  async #weighLag(): Promise<void> {
    const now = Date.now();
    for (const run of this.#runs.values()) {
      if (run.record.status !== 'running' || run.cancelled) continue;
      for (const [name, scale] of run.scale) {
        const replicas = replicasOf(run, name);
        if (scale.target !== null || replicas.some((r) => r.status !== 'running' || !this.#alive(r))) continue;
        const stream = `${run.def.name}.${name}`;
        const reporting = this.#board.reporting(stream);
        const report = this.#board.latest(stream);
        if (!report || !replicas.every((r) => reporting.has(r.attemptId!))) continue;
        const perTopic = new Map<string, number>();
        for (const p of report.partitions) perTopic.set(p.topic, (perTopic.get(p.topic) ?? 0) + 1);
        const lag = report.partitions.reduce((n, p) => n + p.lag, 0);
        const policy = replicas[0]!.def.scale!;
        const d = decideScale(policy, { count: scale.count, lag, partitions: Math.max(1, ...perTopic.values()), at: now, lowSince: scale.lowSince });
        scale.lowSince = d.lowSince;
        if (d.to !== null) await this.#rescale(run, name, d.to, lag);
      }
    }
  }

  async #rescale(run: ActiveRun, name: string, to: number, lag: number): Promise<void> {
    const scale = run.scale.get(name)!;
    scale.target = to;
    const why = `lag ${lag} records: ${scale.count} → ${to} replicas`;
    this.#services.logger.info({ run: run.record.id, step: name, from: scale.count, to, lag }, `stream ${run.def.name}.${name} scales: ${why}`);
    this.#steps.record(run, 'stream.rescaling', name, null, { from: scale.count, to, lag });
    for (const r of replicasOf(run, name)) {
      if (r.status !== 'running' || !this.#alive(r)) continue;
      // The kill comes first: a stop that never reaches the replica must not hold the change up.
      this.#killAfterGrace(run, r, r.attemptId!, `rescaling: ${why}`);
      await this.#stop(r, `rescaling: ${why}`).catch((err) => this.#fault('stopping a replica', err));
    }
    await this.#advance(run);
    await this.#steps.writes.flush();
  }

  /**
   * Once every replica has stopped (flushed and committed, or been killed with its batch
   * pending), the new count takes over: replicas past it end, new ones are added, and all
   * start from the committed positions with their new share of the partitions.
   */
  #rescaled(run: ActiveRun, name: string): void {
    const scale = run.scale.get(name)!;
    const replicas = replicasOf(run, name);
    if (run.cancelled || replicas.some((r) => this.#alive(r))) return;
    const from = scale.count;
    const to = scale.target!;
    scale.count = to;
    scale.target = null;
    scale.lowSince = null;
    for (const r of replicas) {
      if (r.shard < to) continue;
      // Its partitions moved to the others; a replica waiting to retry has nothing left either.
      if (r.status === 'retrying') this.#steps.setStep(run, r, 'running', null);
      this.#steps.setStep(run, r, 'succeeded', null);
      run.steps.splice(run.steps.indexOf(r), 1);
    }
    const def = replicas[0]!.def;
    for (let k = 0; k < to; k++) {
      let r = replicas.find((x) => x.shard === k);
      if (!r) {
        r = newStepState(def, k);
        run.steps.push(r);
        this.#steps.saveStep(run, r);
      }
      this.#dispatch(run, r);
    }
    this.#steps.record(run, 'stream.scaled', name, null, { from, to });
  }

  async #maybeFinish(run: ActiveRun): Promise<void> {
    // A stopped stream that flushed and returned succeeded: stopping is how a stream ends.
    const status = finalRunStatus(run.steps, run.cancelled && !run.steps.every((s) => s.status === 'succeeded'));
    if (status === null || !this.#runs.has(run.record.id)) return;
    this.#runs.delete(run.record.id);
    // For no_data, `error` carries the step's reason: why the run wrote nothing.
    const error = status === 'succeeded' ? null : (run.steps.find((s) => s.reason !== null && s.status !== 'skipped')?.reason ?? status);
    // The status and its run.* event go out in one transaction.
    this.#steps.writes.run({ id: run.record.id, status, finishedAt: nowIso(), error });
    this.#steps.record(run, `run.${status}`, null, null, { error });
    this.#metrics.runEnded(run.def.name, status);
    this.#steps.notify({ kind: 'run', runId: run.record.id, pipeline: run.def.name, status, error });
    await this.#steps.writes.flush();
    const detail = await this.#services.metadata.runs.get(run.record.id);
    run.done.resolve(detail!);
    await this.#pump();
  }

  #declare(def: AnyPipeline): void {
    this.#metrics.declarePipeline(def);
    for (const s of def.steps) if (s.stream) this.#board.declare(def.name, s.name);
  }

  #positionsOf(stream: string): Map<string, StreamPosition> {
    let known = this.#positions.get(stream);
    if (!known) {
      known = new Map();
      this.#positions.set(stream, known);
    }
    return known;
  }

  /** What the stream last reported, while a run of it is driven here. */
  streamReport(stream: string): StreamReport | undefined {
    return this.#board.latest(stream);
  }

  /** The stream steps of runs this coordinator drives, with their run and step state (of the first replica) and replica count. */
  activeStreams(): { stream: string; pipeline: string; step: string; runId: string; status: StepState['status']; attempt: number; reason: string | null; replicas: number }[] {
    const out = [];
    for (const run of this.#runs.values()) {
      for (const s of run.steps) {
        if (!s.def.stream || s.shard !== 0) continue;
        const replicas = s.def.scale ? replicasOf(run, s.name).filter((r) => this.#alive(r)).length : this.#alive(s) ? 1 : 0;
        out.push({ stream: streamOf(run, s), pipeline: run.def.name, step: s.name, runId: run.record.id, status: s.status, attempt: s.attempt, reason: s.reason, replicas });
      }
    }
    return out;
  }

  #fault(what: string, err: unknown): void {
    this.#services.logger.error({ err: describeError(err) }, `${what} failed`);
  }
}
