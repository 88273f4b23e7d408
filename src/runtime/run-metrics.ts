import type { CheckResult } from '../core/events.ts';
import { isTerminalRun, RUN_STATUSES, type RunStatus } from '../core/states.ts';
import type { AnyPipeline } from './pipeline-registry.ts';
import { METRICS } from '../core/metric-catalogue.ts';
import type { Metrics } from '../ports/metrics.ts';
import { catalogued, type CataloguedMetrics } from './catalogued-metrics.ts';

/** The control plane's Prometheus series, as the metric catalogue defines them. */
export class RunMetrics {
  readonly #m: Metrics;
  readonly #c: CataloguedMetrics;
  readonly #declared = new WeakSet<AnyPipeline>();

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

  /**
   * Every series of a pipeline at 0 before its first run: Prometheus' increase() cannot see a
   * counter's first step from nothing, so a run that fails first would never fire
   * SluiceRunFailed, and a dashboard panel would say "No data" where it means none.
   */
  declarePipeline(def: AnyPipeline): void {
    // Once per definition: a submit calls this for pipelines a reload added.
    if (this.#declared.has(def)) return;
    this.#declared.add(def);
    const pipeline = def.name;
    for (const status of RUN_STATUSES) if (isTerminalRun(status)) this.#c.inc(METRICS.runsTotal, { pipeline, status }, 0);
    for (const s of def.steps) {
      this.#c.inc(METRICS.attemptRetries, { pipeline, step: s.name }, 0);
      this.#c.inc(METRICS.lostAttempts, { pipeline, step: s.name }, 0);
      for (const a of s.assets) this.#c.inc(METRICS.quarantinedRows, { pipeline, asset: a.name }, 0);
    }
  }

  /** Queue depth and runs in progress, after every admission decision. */
  admission(queued: number, running: number): void {
    this.#c.set(METRICS.runsQueued, {}, queued);
    this.#c.set(METRICS.runsRunning, {}, running);
  }

  attemptsInFlight(n: number): void {
    this.#c.set(METRICS.attemptsInFlight, {}, n);
  }

  runEnded(pipeline: string, status: RunStatus): void {
    this.#c.inc(METRICS.runsTotal, { pipeline, status });
  }
}
