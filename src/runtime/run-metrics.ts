import type { CheckResult } from '../core/events.ts';
import type { RunStatus } from '../core/states.ts';
import type { Metrics } from '../ports/metrics.ts';

/** The control plane's Prometheus series, each named and described in one place. */
export class RunMetrics {
  readonly #m: Metrics;

  constructor(metrics: Metrics) {
    this.#m = metrics;
  }

  eventApplied(type: string, emittedAt: string): void {
    const lag = (Date.now() - Date.parse(emittedAt)) / 1000;
    if (!Number.isFinite(lag)) return;
    this.#m.observe('sluice_events_lag_seconds', 'Time from an event being emitted to the control plane applying it', { type }, Math.max(0, lag));
  }

  attemptEnded(pipeline: string, step: string, status: string, startedAt: string, finishedAt: string): void {
    const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
    this.#m.observe('sluice_step_duration_seconds', 'Duration of step attempts', { pipeline, step, status }, seconds);
  }

  attemptLost(pipeline: string, step: string): void {
    this.#m.incCounter('sluice_lost_attempts_total', 'Attempts whose worker stopped answering', { pipeline, step });
  }

  attemptRetried(pipeline: string, step: string): void {
    this.#m.incCounter('sluice_attempt_retries_total', 'Step attempts retried', { pipeline, step });
  }

  quarantined(pipeline: string, asset: string, rows: number): void {
    if (rows > 0) this.#m.incCounter('sluice_quarantined_rows_total', 'Rows sent to quarantine', { pipeline, asset }, rows);
  }

  checkEvaluated(pipeline: string, r: CheckResult): void {
    this.#m.setGauge('sluice_check_passed', 'Latest result of a check (1 passed, 0 failed)',
      { pipeline, asset: r.asset, check: r.check, severity: r.severity }, r.passed ? 1 : 0);
  }

  /** A metric a step reported (`ctx.metric`): a gauge under the step's own name. */
  stepGauge(name: string, help: string, labels: Record<string, string>, value: number): void {
    this.#m.setGauge(name, help, labels, value);
  }

  runEnded(pipeline: string, status: RunStatus): void {
    this.#m.incCounter('sluice_runs_total', 'Runs by final status', { pipeline, status });
  }
}
