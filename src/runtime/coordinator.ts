import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, boundMessage, describeError } from '../core/errors.ts';
import { canTransitionStep, isTerminalRun, isTerminalStep } from '../core/states.ts';
import { parseAttemptEvent, type AttemptEvent } from '../core/events.ts';
import { pongSchema, type Pong } from '../core/commands.ts';
import { backoffDelay } from '../core/retry.ts';
import { finalRunStatus, readySteps, skipDownstream } from '../core/run-plan.ts';
import { admitRunPartition, type PartitionChoice } from '../core/run-partition.ts';
import { TOPICS, type Subscription } from '../ports/event-bus.ts';
import type { Launcher } from '../ports/launcher.ts';
import type { AttemptFailure, RunDetail, RunRecord } from '../ports/metadata-store.ts';
import { parseParams } from '../sdk/pipeline.ts';
import { loadOpenRuns, newActiveRun, type ActiveRun, type StepState } from './active-run.ts';
import { failureOfEvent, logFailure, lostFailure } from './attempt-failure.ts';
import { HealthMonitor } from './health-monitor.ts';
import type { PipelineRegistry } from './pipeline-registry.ts';
import { decideRetry } from './retry-decision.ts';
import type { RunListener, RunUpdate } from './run-updates.ts';
import type { Services } from './services.ts';
import { WriteBuffer } from './write-buffer.ts';

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

/**
 * Advances runs as events arrive: dispatches ready steps through the launcher, applies
 * retry policy, turns failed `error` checks into skipped downstream steps, and records
 * everything in the metadata store. Events from attempts it no longer waits for
 * (replayed, late, fenced off) change nothing.
 */
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
}

export class Coordinator {
  readonly #services: Services;
  readonly #registry: PipelineRegistry;
  readonly #launcher: Launcher;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #attempts = new Map<string, { run: ActiveRun; step: StepState }>();
  readonly #listeners = new Set<RunListener>();
  readonly #pongListeners = new Set<(p: Pong) => void>();
  readonly #queue: ActiveRun[] = [];
  readonly #writes: WriteBuffer;
  readonly #opts: Required<CoordinatorOptions>;
  readonly #health: HealthMonitor;
  #subscription: Subscription | null = null;

  constructor(services: Services, registry: PipelineRegistry, launcher: Launcher, options: CoordinatorOptions) {
    this.#services = services;
    this.#registry = registry;
    this.#launcher = launcher;
    this.#writes = new WriteBuffer(services.metadata, services.logger, (u) => this.#emit(u));
    this.#opts = { missedHeartbeats: 3, startTimeoutMs: 60_000, cancelGraceMs: 10_000, maxConcurrentRuns: 16, ...options };
    this.#health = new HealthMonitor(
      { heartbeatMs: this.#opts.heartbeatMs, missedHeartbeats: this.#opts.missedHeartbeats, startTimeoutMs: this.#opts.startTimeoutMs },
      (attemptId, silentMs) => void this.#lost(attemptId, silentMs).catch((err) => this.#services.logger.error({ err: describeError(err) }, 'lost-attempt handling failed')),
    );
  }

  /** Subscribes to events, takes over runs a previous control plane left unfinished, starts the health monitor. */
  async start(): Promise<void> {
    this.#subscription = await this.#services.bus.subscribe(TOPICS.events, { group: 'sluice-coordinator' }, (m) =>
      this.#onEvent(m.value),
    );
    await this.#recover();
    this.#health.start();
  }

  async #recover(): Promise<void> {
    const { metadata, logger } = this.#services;
    for (const run of await loadOpenRuns(metadata, this.#registry)) {
      if (this.#runs.has(run.record.id)) continue;
      this.#runs.set(run.record.id, run);
      for (const s of run.steps) {
        if (s.status === 'running' && s.attemptId) {
          this.#attempts.set(s.attemptId, { run, step: s });
          this.#health.track(s.attemptId, true);
        }
      }
      logger.info({ run: run.record.id, pipeline: run.def.name }, 'resuming run after restart');
      this.#record(run, 'run.resumed', null, null, {});
      if (run.record.status === 'queued') this.#queue.push(run);
      else {
        for (const s of run.steps) if (s.status === 'retrying') await this.#dispatch(run, s);
        await this.#advance(run);
      }
    }
    await this.#pump();
  }

  /** Starts queued runs while the limits allow, oldest first. */
  async #pump(): Promise<void> {
    for (let i = 0; i < this.#queue.length; ) {
      const run = this.#queue[i];
      const running = [...this.#runs.values()].filter((r) => r.record.status === 'running');
      const ofPipeline = running.filter((r) => r.def.name === run.def.name).length;
      if (running.length >= this.#opts.maxConcurrentRuns) return;
      if (run.def.concurrency !== null && ofPipeline >= run.def.concurrency) {
        i += 1;
        continue;
      }
      this.#queue.splice(i, 1);
      await this.#begin(run);
    }
    await this.#writes.flush();
  }

  async #begin(run: ActiveRun): Promise<void> {
    const startedAt = nowIso();
    run.record = { ...run.record, status: 'running', startedAt };
    this.#writes.run({ id: run.record.id, status: 'running', startedAt });
    this.#notify({ kind: 'run', runId: run.record.id, pipeline: run.def.name, status: 'running', error: null });
    await this.#advance(run);
  }

  async #lost(attemptId: string, silentMs: number): Promise<void> {
    const hit = this.#attempts.get(attemptId);
    if (!hit || hit.step.attemptId !== attemptId) return;
    const { run, step } = hit;
    const why = `attempt ${step.attempt} lost: no sign of life for ${(silentMs / 1000).toFixed(1)} s`;
    this.#services.logger.warn({ run: run.record.id, step: step.name, attempt: attemptId }, why);
    this.#services.metrics.incCounter('sluice_lost_attempts_total', 'Attempts whose worker stopped answering', { pipeline: run.def.name, step: step.name });
    const decision = run.cancelled ? null : decideRetry(step.def.retry, step.attempt, { retryable: true });
    const failure = lostFailure(why, decision);
    // Fenced off from here on: its late events no longer match the step's current attempt.
    await this.#endAttempt(run, step, 'lost', why, failure);
    await this.#record(run, 'attempt.lost', step.name, attemptId, { attempt: step.attempt, silentMs, notRetried: failure.notRetried });
    if (this.#launcher.canKill) void this.#launcher.kill(attemptId).catch(() => undefined);
    if (run.cancelled) await this.#setStep(run, step, 'cancelled', why);
    else if (decision?.retry) await this.#retryLater(run, step, why);
    else {
      await this.#setStep(run, step, 'failed', why);
      for (const s of skipDownstream(run.steps, step.name, `upstream step ${step.name} failed`)) await this.#stepChanged(run, s);
    }
    await this.#advance(run);
    await this.#writes.flush();
  }

  /** Workers' answers to `ping`; returns the unsubscribe function. */
  onPong(listener: (p: Pong) => void): () => void {
    this.#pongListeners.add(listener);
    return () => this.#pongListeners.delete(listener);
  }

  /** Live updates of every run this coordinator drives; returns the unsubscribe function. */
  onUpdate(listener: RunListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Validates the request, records the run and starts it. `done` settles when the run ends. */
  async submit(req: RunRequest): Promise<{ run: RunRecord; done: Promise<RunDetail> }> {
    const def = this.#registry.get(req.pipeline);
    const params = parseParams(def, req.params ?? {});
    // A retry repeats the partition its run was admitted with.
    const partition = req.retryOf === undefined ? admitRunPartition(def, req, new Date()) : (req.partition ?? null);
    const { metadata } = this.#services;
    if (req.runId !== undefined && (await metadata.runs.get(req.runId))) {
      throw new ConflictError(`run ${req.runId} already exists`);
    }
    const parent = req.retryOf ? await this.#retriedRun(req.retryOf, def.name) : null;
    const created = await metadata.runs.create({
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
    const run = newActiveRun(created, def, reused);
    const record = created;
    this.#runs.set(record.id, run);
    for (const s of run.steps) await this.#saveStep(run, s);
    await this.#record(run, 'run.started', null, null, { partition, params, retryOf: req.retryOf ?? null, reused: [...reused] });
    this.#queue.push(run);
    await this.#pump();
    await this.#writes.flush();
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
    const queued = this.#queue.indexOf(run);
    if (queued >= 0) this.#queue.splice(queued, 1);
    for (const s of run.steps) {
      if (s.status === 'pending' || s.status === 'retrying') {
        await this.#setStep(run, s, 'cancelled', reason);
      } else if (s.status === 'running' && s.attemptId) {
        const attemptId = s.attemptId;
        await this.#launcher.terminate(attemptId, reason);
        // An attempt that ignores its AbortSignal is killed after the grace period and
        // fenced off, so cancel always ends the run.
        const t = setTimeout(() => {
          run.timers.delete(t);
          if (s.attemptId !== attemptId || s.status !== 'running') return;
          void (async () => {
            if (this.#launcher.canKill) await this.#launcher.kill(attemptId).catch(() => undefined);
            await this.#endAttempt(run, s, 'cancelled', `${reason}; killed after ${this.#opts.cancelGraceMs} ms`);
            await this.#setStep(run, s, 'cancelled', reason);
            await this.#maybeFinish(run);
            await this.#writes.flush();
          })().catch((err) => this.#services.logger.error({ err: describeError(err) }, 'cancel grace handling failed'));
        }, this.#opts.cancelGraceMs);
        run.timers.add(t);
      }
    }
    await this.#maybeFinish(run);
    await this.#writes.flush();
    return true;
  }

  async close(): Promise<void> {
    this.#health.stop();
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
    const hit = this.#attempts.get(ev.attemptId);
    // Not an attempt we wait for: a replay, a late event from a fenced-off attempt, or
    // another coordinator's run.
    if (!hit || hit.step.attemptId !== ev.attemptId || ev.seq <= hit.step.lastSeq) return;
    const { run, step } = hit;
    step.lastSeq = ev.seq;
    this.#health.seen(ev.attemptId, true);
    const lag = (Date.now() - Date.parse(ev.ts)) / 1000;
    if (Number.isFinite(lag)) this.#services.metrics.observe('sluice_events_lag_seconds', 'Time from an event being emitted to the control plane applying it', { type: ev.type }, Math.max(0, lag));
    await this.#apply(run, step, ev);
    // Not awaited: events that arrive together share one transaction. Losing the tail of
    // it in a crash is safe: the attempt then looks running, the health monitor finds it
    // silent, and it runs again (at-least-once, with idempotent sinks).
    this.#writes.flushSoon();
  }


  async #apply(run: ActiveRun, step: StepState, ev: AttemptEvent): Promise<void> {
    const { metadata, metrics } = this.#services;
    const runId = run.record.id;
    switch (ev.type) {
      case 'attempt.started':
      case 'heartbeat':
        return;
      case 'progress':
        await this.#record(run, 'progress', step.name, ev.attemptId, { rows: ev.rows, total: ev.total ?? null, message: ev.message ?? null, seq: ev.seq });
        this.#notify({ kind: 'progress', runId, step: step.name, rows: ev.rows, total: ev.total, message: ev.message });
        return;
      case 'log':
        await this.#record(run, 'log', step.name, ev.attemptId, { level: ev.level, message: ev.message, seq: ev.seq });
        this.#notify({ kind: 'log', runId, step: step.name, level: ev.level, message: ev.message });
        return;
      case 'metric': {
        metrics.setGauge(ev.name, ev.help, ev.labels, ev.value);
        await metadata.gauges.put([{ name: ev.name, help: ev.help, labels: ev.labels, value: ev.value, updatedAt: ev.ts }]);
        return;
      }
      case 'asset.materialized': {
        step.rowsWritten += ev.rows;
        // Batched with its event, not written at once: a crash before the flush must not
        // leave the row while the event (and its seq) is lost, or the redelivered event
        // would record it a second time.
        this.#writes.materialization({
          runId, step: step.name, asset: ev.asset, partition: ev.partition, rows: ev.rows, metadata: ev.metadata, ts: ev.ts,
        });
        await this.#record(run, 'asset.materialized', step.name, ev.attemptId, { asset: ev.asset, rows: ev.rows, metadata: ev.metadata, seq: ev.seq });
        const quarantined = Number(ev.metadata.quarantined ?? 0);
        if (quarantined > 0) {
          metrics.incCounter('sluice_quarantined_rows_total', 'Rows sent to quarantine', { pipeline: run.def.name, asset: ev.asset }, quarantined);
        }
        this.#notify({ kind: 'materialized', runId, step: step.name, asset: ev.asset, rows: ev.rows, metadata: ev.metadata });
        return;
      }
      case 'check.evaluated': {
        const r = ev.result;
        this.#writes.checkResult({ runId, step: step.name, partition: ev.partition, ts: ev.ts, ...r, value: r.value ?? null });
        await this.#record(run, 'check.evaluated', step.name, ev.attemptId, { ...r, seq: ev.seq });
        metrics.setGauge('sluice_check_passed', 'Latest result of a check (1 passed, 0 failed)',
          { pipeline: run.def.name, asset: r.asset, check: r.check, severity: r.severity }, r.passed ? 1 : 0);
        // The reason keeps the check's message, so the run's error and every skipped step show its value.
        if (!r.passed && r.severity === 'error' && step.blockedBy === null) step.blockedBy = boundMessage(`${r.asset}:${r.check} failed (severity error) — ${r.message}`);
        this.#notify({ kind: 'check', runId, step: step.name, result: r });
        return;
      }
      case 'attempt.succeeded': {
        await this.#endAttempt(run, step, 'succeeded', null);
        step.rowsWritten = ev.rowsWritten;
        if (ev.noData !== undefined) {
          await this.#setStep(run, step, 'no_data', ev.noData);
          for (const s of skipDownstream(run.steps, step.name, `upstream step ${step.name} had no data`)) await this.#stepChanged(run, s);
        } else if (step.blockedBy !== null) {
          const reason = `check ${step.blockedBy}`;
          await this.#setStep(run, step, 'succeeded', reason);
          for (const s of skipDownstream(run.steps, step.name, `blocked: ${reason}`)) await this.#stepChanged(run, s);
        } else {
          await this.#setStep(run, step, 'succeeded', null);
        }
        await this.#advance(run);
        return;
      }
      case 'attempt.failed': {
        const cancelled = run.cancelled || ev.error.code === 'cancelled';
        const decision = cancelled ? null : decideRetry(step.def.retry, step.attempt, ev.error);
        const failure = ev.error.code === 'cancelled' ? null : failureOfEvent(ev.error, decision);
        await this.#endAttempt(run, step, failure ? 'failed' : 'cancelled', ev.error.message, failure);
        await this.#record(run, 'attempt.failed', step.name, ev.attemptId, { error: ev.error, attempt: step.attempt, notRetried: failure?.notRetried ?? null });
        if (failure) {
          logFailure(this.#services.logger, { run: runId, pipeline: run.def.name, step: step.name, attempt: step.attempt }, failure);
          this.#notify({ kind: 'attempt', runId, step: step.name, attempt: step.attempt, failure });
        }
        if (cancelled) {
          await this.#setStep(run, step, 'cancelled', ev.error.message);
        } else if (decision?.retry) {
          await this.#retryLater(run, step, ev.error.message);
        } else {
          await this.#setStep(run, step, 'failed', ev.error.message);
          for (const s of skipDownstream(run.steps, step.name, `upstream step ${step.name} failed`)) await this.#stepChanged(run, s);
        }
        await this.#advance(run);
        return;
      }
    }
  }

  async #retryLater(run: ActiveRun, step: StepState, error: string): Promise<void> {
    const delay = backoffDelay(step.def.retry, step.attempt);
    await this.#setStep(run, step, 'retrying', error);
    this.#services.metrics.incCounter('sluice_attempt_retries_total', 'Step attempts retried', { pipeline: run.def.name, step: step.name });
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      void this.#dispatch(run, step).then(() => this.#writes.flush()).catch((err) => this.#services.logger.error({ err: describeError(err) }, 'dispatch failed'));
    }, delay);
    run.timers.add(timer);
  }

  async #advance(run: ActiveRun): Promise<void> {
    if (!run.cancelled) for (const s of readySteps(run.steps)) await this.#dispatch(run, s);
    await this.#maybeFinish(run);
  }

  async #dispatch(run: ActiveRun, step: StepState): Promise<void> {
    // A retry timer that fires after the step was cancelled (or otherwise ended) starts nothing.
    if (run.cancelled || !canTransitionStep(step.status, 'running')) return;
    step.attempt += 1;
    step.attemptId = randomUUID();
    step.lastSeq = -1;
    step.blockedBy = null;
    step.attemptStartedAt = nowIso();
    step.startedAt ??= step.attemptStartedAt;
    this.#attempts.set(step.attemptId, { run, step });
    this.#health.track(step.attemptId);
    this.#writes.attempt({
      id: step.attemptId, runId: run.record.id, step: step.name, attempt: step.attempt, status: 'running',
      startedAt: step.attemptStartedAt, finishedAt: null, error: null, rowsWritten: 0,
    });
    await this.#setStep(run, step, 'running', null);
    // Not awaited, so the starts of parallel steps go out together. A start that never
    // arrives is caught by the health monitor's start timeout and dispatched again.
    const attemptId = step.attemptId;
    this.#launcher
      .launch({
        runId: run.record.id, attemptId, attempt: step.attempt, pipeline: run.def.name, step: step.name,
        params: run.record.params, partition: run.record.partition, timeoutMs: step.def.timeoutMs,
        version: this.#registry.versionOf(run.def),
      })
      .catch((err) => this.#services.logger.error({ err: describeError(err), attempt: attemptId }, 'launch failed; the start timeout will retry it'));
  }

  async #endAttempt(
    run: ActiveRun, step: StepState, status: 'succeeded' | 'failed' | 'cancelled' | 'lost', error: string | null, failure: AttemptFailure | null = null,
  ): Promise<void> {
    const id = step.attemptId!;
    this.#attempts.delete(id);
    this.#health.untrack(id);
    const finishedAt = nowIso();
    this.#writes.attempt({
      id, runId: run.record.id, step: step.name, attempt: step.attempt, status, startedAt: step.attemptStartedAt!,
      finishedAt, error, rowsWritten: step.rowsWritten, failure,
    });
    const seconds = (Date.parse(finishedAt) - Date.parse(step.attemptStartedAt!)) / 1000;
    this.#services.metrics.observe('sluice_step_duration_seconds', 'Duration of step attempts',
      { pipeline: run.def.name, step: step.name, status }, seconds);
  }

  async #setStep(run: ActiveRun, step: StepState, status: StepState['status'], reason: string | null): Promise<void> {
    if (!canTransitionStep(step.status, status)) {
      this.#services.logger.error(
        { run: run.record.id, step: step.name, from: step.status, to: status, reason },
        `coordinator bug: refused step transition ${step.status} → ${status}`,
      );
      return;
    }
    step.status = status;
    step.reason = reason;
    if (isTerminalStep(status)) step.finishedAt = nowIso();
    await this.#stepChanged(run, step);
  }

  async #stepChanged(run: ActiveRun, step: StepState): Promise<void> {
    await this.#saveStep(run, step);
    await this.#record(run, `step.${step.status}`, step.name, step.attemptId, { attempt: step.attempt, reason: step.reason });
    this.#notify({ kind: 'step', runId: run.record.id, step: step.name, status: step.status, attempt: step.attempt, reason: step.reason });
  }

  #saveStep(run: ActiveRun, s: StepState): void {
    this.#writes.step({
      runId: run.record.id, step: s.name, status: s.status, attempts: s.attempt, startedAt: s.startedAt,
      finishedAt: s.finishedAt, rowsWritten: s.rowsWritten, reason: s.reason,
    });
  }


  async #maybeFinish(run: ActiveRun): Promise<void> {
    const status = finalRunStatus(run.steps, run.cancelled);
    if (status === null || !this.#runs.has(run.record.id)) return;
    this.#runs.delete(run.record.id);
    // For no_data, `error` carries the step's reason: why the run wrote nothing.
    const error = status === 'succeeded' ? null : (run.steps.find((s) => s.reason !== null && s.status !== 'skipped')?.reason ?? status);
    const { metadata, metrics, pusher, logger } = this.#services;
    this.#writes.run({ id: run.record.id, status, finishedAt: nowIso(), error });
    await this.#record(run, `run.${status}`, null, null, { error });
    metrics.incCounter('sluice_runs_total', 'Runs by final status', { pipeline: run.def.name, status });
    if (pusher) {
      try {
        await pusher.push(metrics, 'sluice', { pipeline: run.def.name });
      } catch (err) {
        logger.warn({ err: describeError(err) }, 'could not push metrics to the Pushgateway');
        await this.#record(run, 'metrics.push_failed', null, null, { error: describeError(err) });
      }
    }
    this.#notify({ kind: 'run', runId: run.record.id, pipeline: run.def.name, status, error });
    await this.#writes.flush();
    const detail = await metadata.runs.get(run.record.id);
    run.done.resolve(detail!);
    await this.#pump();
  }

  #record(run: ActiveRun, type: string, step: string | null, attemptId: string | null, payload: Record<string, unknown>): void {
    this.#writes.event({ runId: run.record.id, type, step, attemptId, ts: nowIso(), payload });
  }

  /** Held until the next flush has written what the update is about. */
  #notify(u: RunUpdate): void {
    this.#writes.notify(u);
  }

  #emit(u: RunUpdate): void {
    for (const l of this.#listeners) {
      try {
        l(u);
      } catch (err) {
        this.#services.logger.warn({ err: describeError(err) }, 'run listener threw');
      }
    }
  }
}
