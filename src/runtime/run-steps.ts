import { randomUUID } from 'node:crypto';
import { describeError } from '../core/errors.ts';
import { skipDownstream } from '../core/run-plan.ts';
import { canTransitionStep, isTerminalStep } from '../core/states.ts';
import type { AttemptFailure, MetadataStore } from '../ports/metadata-store.ts';
import type { ActiveRun, StepState } from './active-run.ts';
import type { HealthMonitor } from './health-monitor.ts';
import type { RunMetrics } from './run-metrics.ts';
import type { RunListener, RunUpdate } from './run-updates.ts';
import type { Logger } from './services.ts';
import { WriteBuffer } from './write-buffer.ts';

const nowIso = () => new Date().toISOString();

export type AttemptEnd = 'succeeded' | 'failed' | 'cancelled' | 'lost';

/**
 * The bookkeeping of runs in flight: which attempt is current for each step, the step
 * transitions (refused when the table does not allow them), and everything recorded about
 * them — rows through the write buffer, live updates to listeners once their rows are stored.
 * Deciding what happens next is the coordinator's; this only records it.
 */
export class RunSteps {
  readonly writes: WriteBuffer;
  readonly #attempts = new Map<string, { run: ActiveRun; step: StepState }>();
  readonly #listeners = new Set<RunListener>();
  readonly #health: HealthMonitor;
  readonly #metrics: RunMetrics;
  readonly #logger: Logger;
  readonly #ended: (run: ActiveRun, step: StepState, attemptId: string) => void;

  constructor(deps: { store: MetadataStore; health: HealthMonitor; metrics: RunMetrics; logger: Logger; ended?: (run: ActiveRun, step: StepState, attemptId: string) => void }) {
    this.#ended = deps.ended ?? (() => undefined);
    this.#health = deps.health;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
    this.writes = new WriteBuffer(deps.store, deps.logger, (u) => this.#emit(u));
  }

  /** Live updates of every run; returns the unsubscribe function. */
  onUpdate(listener: RunListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The run and step whose current attempt this is; undefined for a replaced or finished one. */
  current(attemptId: string): { run: ActiveRun; step: StepState } | undefined {
    const hit = this.#attempts.get(attemptId);
    return hit && hit.step.attemptId === attemptId ? hit : undefined;
  }

  /** Watches a step's current attempt; `started` when it is known to be running on a worker already. */
  watch(run: ActiveRun, step: StepState, started = false): void {
    this.#attempts.set(step.attemptId!, { run, step });
    this.#health.track(step.attemptId!, started);
  }

  /** A new attempt of the step, recorded and watched, the step `running`; returns its id. */
  startAttempt(run: ActiveRun, step: StepState): string {
    step.attempt += 1;
    step.attemptId = randomUUID();
    step.lastSeq = -1;
    step.blockedBy = null;
    step.stopAsked = null;
    step.attemptStartedAt = nowIso();
    step.startedAt ??= step.attemptStartedAt;
    this.watch(run, step);
    this.writes.attempt({
      id: step.attemptId, runId: run.record.id, step: step.name, attempt: step.attempt, status: 'running',
      startedAt: step.attemptStartedAt, finishedAt: null, error: null, rowsWritten: 0,
    });
    // A replica of a scaled stream restarted for a new replica count stays running throughout.
    if (step.status === 'running') this.record(run, 'step.running', step.name, step.attemptId, { attempt: step.attempt, reason: null });
    else this.setStep(run, step, 'running', null);
    return step.attemptId;
  }

  /** Ends the step's current attempt; its late events are fenced off from here on. */
  endAttempt(run: ActiveRun, step: StepState, status: AttemptEnd, error: string | null, failure: AttemptFailure | null = null): void {
    const id = step.attemptId!;
    this.#attempts.delete(id);
    this.#health.untrack(id);
    const finishedAt = nowIso();
    this.writes.attempt({
      id, runId: run.record.id, step: step.name, attempt: step.attempt, status, startedAt: step.attemptStartedAt!,
      finishedAt, error, rowsWritten: step.rowsWritten, failure,
    });
    this.#metrics.attemptEnded(run.def.name, step.name, status, step.attemptStartedAt!, finishedAt);
    this.#ended(run, step, id);
  }

  setStep(run: ActiveRun, step: StepState, status: StepState['status'], reason: string | null): void {
    if (!canTransitionStep(step.status, status)) {
      this.#logger.error(
        { run: run.record.id, step: step.name, from: step.status, to: status, reason },
        `coordinator bug: refused step transition ${step.status} → ${status}`,
      );
      return;
    }
    step.status = status;
    step.reason = reason;
    if (isTerminalStep(status)) step.finishedAt = nowIso();
    this.#stepChanged(run, step);
  }

  /** Skips the not-yet-started steps downstream of `step`, each with the reason. */
  skipAfter(run: ActiveRun, step: StepState, reason: string): void {
    for (const s of skipDownstream(run.steps, step.name, reason)) this.#stepChanged(run, s);
  }

  saveStep(run: ActiveRun, s: StepState): void {
    this.writes.step({
      runId: run.record.id, step: s.name, status: s.status, attempts: s.attempt, startedAt: s.startedAt,
      finishedAt: s.finishedAt, rowsWritten: s.rowsWritten, reason: s.reason,
    });
  }

  record(run: ActiveRun, type: string, step: string | null, attemptId: string | null, payload: Record<string, unknown>): void {
    this.writes.event({ runId: run.record.id, type, step, attemptId, ts: nowIso(), payload });
  }

  /** Held until the next flush has written what the update is about. */
  notify(u: RunUpdate): void {
    this.writes.notify(u);
  }

  #stepChanged(run: ActiveRun, step: StepState): void {
    this.saveStep(run, step);
    this.record(run, `step.${step.status}`, step.name, step.attemptId, { attempt: step.attempt, reason: step.reason });
    this.notify({ kind: 'step', runId: run.record.id, step: step.name, status: step.status, attempt: step.attempt, reason: step.reason });
  }

  #emit(u: RunUpdate): void {
    for (const l of this.#listeners) {
      try {
        l(u);
      } catch (err) {
        this.#logger.warn({ err: describeError(err) }, 'run listener threw');
      }
    }
  }
}
