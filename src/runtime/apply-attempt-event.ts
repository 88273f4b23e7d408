import { boundMessage } from '../core/errors.ts';
import type { AttemptEvent } from '../core/events.ts';
import type { GaugeStore } from '../ports/metadata-store.ts';
import type { ActiveRun, StepState } from './active-run.ts';
import { failureOfEvent, logFailure } from './attempt-failure.ts';
import { decideRetry, type RetryDecision } from './retry-decision.ts';
import type { RunMetrics } from './run-metrics.ts';
import type { RunSteps } from './run-steps.ts';
import type { Logger } from './services.ts';

/** What applying an event may ask of the coordinator: what happens next is its decision. */
export interface RunDriver {
  /** Dispatches the steps that became ready; ends the run when every step is done. */
  advance(run: ActiveRun): Promise<void>;
  /**
   * After a failed or lost attempt: with no decision (the run or the attempt was cancelled)
   * the step ends cancelled; else it is retried later, or fails with its downstream skipped.
   */
  settleFailure(run: ActiveRun, step: StepState, decision: RetryDecision | null, error: string): Promise<void>;
  /**
   * Whether the attempt stopped because its stream changes its replica count: the step
   * then stays running and starts again with the new count, instead of ending.
   */
  handOver(run: ActiveRun, step: StepState): boolean;
}

/** Where a stream step's reports go: its positions to the store (and the next launch), its status to the board. */
export interface StreamSink {
  offsets(run: ActiveRun, step: StepState, offsets: Extract<AttemptEvent, { type: 'stream.offsets' }>['offsets']): void;
  status(run: ActiveRun, ev: Extract<AttemptEvent, { type: 'stream.status' }>): void;
}

export interface EventContext {
  readonly steps: RunSteps;
  readonly metrics: RunMetrics;
  readonly gauges: Pick<GaugeStore, 'put'>;
  readonly logger: Logger;
  readonly driver: RunDriver;
  readonly streams: StreamSink;
}

/** Applies one event of a step's current attempt (already checked to be new and in order). */
export async function applyAttemptEvent(ctx: EventContext, run: ActiveRun, step: StepState, ev: AttemptEvent): Promise<void> {
  const { steps, metrics } = ctx;
  const runId = run.record.id;
  switch (ev.type) {
    case 'attempt.started':
    case 'heartbeat':
      return;
    case 'progress':
      steps.record(run, 'progress', step.name, ev.attemptId, { rows: ev.rows, total: ev.total ?? null, message: ev.message ?? null, seq: ev.seq });
      steps.notify({ kind: 'progress', runId, step: step.name, rows: ev.rows, total: ev.total, message: ev.message });
      return;
    case 'log':
      steps.record(run, 'log', step.name, ev.attemptId, { level: ev.level, message: ev.message, seq: ev.seq });
      steps.notify({ kind: 'log', runId, step: step.name, level: ev.level, message: ev.message });
      return;
    case 'metric':
      metrics.stepGauge(ev.name, ev.help, ev.labels, ev.value);
      await ctx.gauges.put([{ name: ev.name, help: ev.help, labels: ev.labels, value: ev.value, updatedAt: ev.ts }]);
      return;
    case 'stream.offsets':
      ctx.streams.offsets(run, step, ev.offsets);
      return;
    case 'stream.status':
      ctx.streams.status(run, ev);
      return;
    case 'asset.materialized':
      step.rowsWritten += ev.rows;
      // Batched with its event, not written at once: a crash before the flush must not
      // leave the row while the event (and its seq) is lost, or the redelivered event
      // would record it a second time.
      steps.writes.materialization({
        runId, step: step.name, asset: ev.asset, partition: ev.partition, rows: ev.rows, metadata: ev.metadata, ts: ev.ts,
      });
      steps.record(run, 'asset.materialized', step.name, ev.attemptId, { asset: ev.asset, rows: ev.rows, metadata: ev.metadata, seq: ev.seq });
      metrics.quarantined(run.def.name, ev.asset, Number(ev.metadata.quarantined ?? 0));
      steps.notify({ kind: 'materialized', runId, step: step.name, asset: ev.asset, rows: ev.rows, metadata: ev.metadata });
      return;
    case 'check.evaluated': {
      const r = ev.result;
      steps.writes.checkResult({ runId, step: step.name, partition: ev.partition, ts: ev.ts, ...r, value: r.value ?? null });
      steps.record(run, 'check.evaluated', step.name, ev.attemptId, { ...r, seq: ev.seq });
      metrics.checkEvaluated(run.def.name, r);
      // The reason keeps the check's message, so the run's error and every skipped step show its value.
      if (!r.passed && r.severity === 'error' && step.blockedBy === null) step.blockedBy = boundMessage(`${r.asset}:${r.check} failed (severity error) — ${r.message}`);
      steps.notify({ kind: 'check', runId, step: step.name, result: r });
      return;
    }
    case 'attempt.succeeded':
      steps.endAttempt(run, step, 'succeeded', null);
      step.rowsWritten = ev.rowsWritten;
      if (ctx.driver.handOver(run, step)) {
        // Its batches are committed; the replicas of the new count go on from there.
      } else if (ev.noData !== undefined) {
        steps.setStep(run, step, 'no_data', ev.noData);
        steps.skipAfter(run, step, `upstream step ${step.name} had no data`);
      } else if (step.blockedBy !== null) {
        const reason = `check ${step.blockedBy}`;
        steps.setStep(run, step, 'succeeded', reason);
        steps.skipAfter(run, step, `blocked: ${reason}`);
      } else {
        steps.setStep(run, step, 'succeeded', null);
      }
      await ctx.driver.advance(run);
      return;
    case 'attempt.failed': {
      const cancelled = run.cancelled || ev.error.code === 'cancelled';
      const decision = cancelled ? null : decideRetry(step.def.retry, step.attempt, ev.error);
      const failure = ev.error.code === 'cancelled' ? null : failureOfEvent(ev.error, decision);
      steps.endAttempt(run, step, failure ? 'failed' : 'cancelled', ev.error.message, failure);
      steps.record(run, 'attempt.failed', step.name, ev.attemptId, { error: ev.error, attempt: step.attempt, notRetried: failure?.notRetried ?? null });
      if (failure) {
        logFailure(ctx.logger, { run: runId, pipeline: run.def.name, step: step.name, attempt: step.attempt }, failure);
        steps.notify({ kind: 'attempt', runId, step: step.name, attempt: step.attempt, failure });
      }
      await ctx.driver.settleFailure(run, step, decision, ev.error.message);
      await ctx.driver.advance(run);
      return;
    }
  }
}
