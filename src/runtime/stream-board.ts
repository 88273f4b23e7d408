import type { AttemptEvent, StreamState } from '../core/events.ts';
import { METRICS } from '../core/metric-catalogue.ts';
import type { Metrics } from '../ports/metrics.ts';
import { catalogued, type CataloguedMetrics } from './catalogued-metrics.ts';

type StatusEvent = Extract<AttemptEvent, { type: 'stream.status' }>;

export interface StreamPartitionView {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly end: number;
  readonly lag: number;
}

/** The latest a stream step's current attempt reported, with rates over the last report. */
export interface StreamReport {
  readonly runId: string;
  readonly attemptId: string;
  readonly state: StreamState;
  readonly partitions: readonly StreamPartitionView[];
  readonly counters: Readonly<Record<string, number>>;
  /** Per second, between the last two reports. */
  readonly rates: Readonly<Record<string, number>>;
  readonly message: string | null;
  readonly at: string;
}

/**
 * What stream steps report (`stream.status`), kept per stream for the API and turned into
 * Prometheus series: lag per partition, counters as totals that survive attempts (the
 * attempt's own totals restart at zero), and whether it runs.
 */
export class StreamBoard {
  readonly #latest = new Map<string, StreamReport>();
  readonly #c: CataloguedMetrics;

  constructor(metrics: Metrics) {
    this.#c = catalogued(metrics);
  }

  /** Series at 0 for a stream step before it first reports. */
  declare(pipeline: string, step: string): void {
    this.#c.set(METRICS.streamRunning, { pipeline, step }, 0);
    for (const counter of ['records_in', 'records_out', 'dead_letters']) this.#c.inc(METRICS.streamRecords, { counter, pipeline, step }, 0);
  }

  report(pipeline: string, ev: StatusEvent): void {
    const stream = `${pipeline}.${ev.step}`;
    const prev = this.#latest.get(stream);
    const same = prev?.attemptId === ev.attemptId;
    const seconds = same ? (Date.parse(ev.ts) - Date.parse(prev.at)) / 1000 : 0;
    const rates: Record<string, number> = {};
    for (const [name, total] of Object.entries(ev.counters)) {
      const before = same ? (prev.counters[name] ?? 0) : 0;
      const delta = Math.max(0, total - before);
      if (delta > 0) this.#c.inc(METRICS.streamRecords, { counter: name, pipeline, step: ev.step }, delta);
      rates[name] = seconds > 0 ? delta / seconds : 0;
    }
    const partitions = ev.partitions.map((p) => ({ ...p, lag: Math.max(0, p.end - p.offset) }));
    for (const p of partitions) this.#c.set(METRICS.streamLag, { partition: String(p.partition), pipeline, step: ev.step, topic: p.topic }, p.lag);
    this.#c.set(METRICS.streamRunning, { pipeline, step: ev.step }, ev.state === 'running' || ev.state === 'paused' ? 1 : 0);
    this.#latest.set(stream, {
      runId: ev.runId, attemptId: ev.attemptId, state: ev.state, partitions, counters: ev.counters, rates: same || !prev ? rates : {},
      message: ev.message ?? null, at: ev.ts,
    });
  }

  /** The stream's attempt ended: it no longer runs, whatever it said last. */
  ended(pipeline: string, step: string): void {
    this.#c.set(METRICS.streamRunning, { pipeline, step }, 0);
  }

  latest(stream: string): StreamReport | undefined {
    return this.#latest.get(stream);
  }
}
