import type { CheckResult } from '../core/events.ts';
import type { RunStatus } from '../core/states.ts';
import { METRICS } from '../core/metric-catalogue.ts';
import type { Metrics } from '../ports/metrics.ts';
import { catalogued, type CataloguedMetrics } from './catalogued-metrics.ts';

/** The control plane's Prometheus series, as the metric catalogue defines them. */
export class RunMetrics {
  readonly #m: Metrics;
  readonly #c: CataloguedMetrics;

  constructor(metrics: Metrics) {
    this.#m = metrics;
    this.#c = catalogued(metrics);
  }

  eventApplied(type: string, emittedAt: string): void {
    const lag = (Date.now() - Date.parse(emittedAt)) / 1000;
    if (!Number.isFinite(lag)) return;
    this.#c.observe(METRICS.eventsLag, { type }, Math.max(0, lag));
  }

  attemptEnded(pipeline: string, step: string, status: string, startedAt: string, finishedAt: string): void {
    const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
    this.#c.observe(METRICS.stepDuration, { pipeline, step, status }, seconds);
  }

  attemptLost(pipeline: string, step: string): void {
    this.#c.inc(METRICS.lostAttempts, { pipeline, step });
  }

  attemptRetried(pipeline: string, step: string): void {
    this.#c.inc(METRICS.attemptRetries, { pipeline, step });
  }

  quarantined(pipeline: string, asset: string, rows: number): void {
    if (rows > 0) this.#c.inc(METRICS.quarantinedRows, { pipeline, asset }, rows);
  }

  checkEvaluated(pipeline: string, r: CheckResult): void {
    this.#c.set(METRICS.checkPassed, { pipeline, asset: r.asset, check: r.check, severity: r.severity }, r.passed ? 1 : 0);
  }

  /** A metric a step reported (`ctx.metric`): a gauge under the step's own name. */
  stepGauge(name: string, help: string, labels: Record<string, string>, value: number): void {
    this.#m.setGauge(name, help, labels, value);
  }

  /** Queue depth and runs in progress, after every admission decision. */
  admission(queued: number, running: number): void {
    this.#c.set(METRICS.runsQueued, {}, queued);
    this.#c.set(METRICS.runsRunning, {}, running);
  }

  attemptsInFlight(n: number): void {
    this.#c.set(METRICS.attemptsInFlight, {}, n);
  }

  heartbeat(): void {
    this.#c.inc(METRICS.heartbeats, {});
  }

  runEnded(pipeline: string, status: RunStatus): void {
    this.#c.inc(METRICS.runsTotal, { pipeline, status });
  }
}
