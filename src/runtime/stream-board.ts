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
 * attempt's own totals restart at zero), and whether it runs. A stream scaled on lag has a
 * report per replica; `latest` merges them into one.
 */
export class StreamBoard {
  /** Per stream, the last report of each attempt that runs it now. */
  readonly #latest = new Map<string, Map<string, StreamReport>>();
  /** Per stream, the last word of its last attempt, shown until a successor reports. */
  readonly #last = new Map<string, StreamReport>();
  readonly #c: CataloguedMetrics;

  constructor(metrics: Metrics) {
    this.#c = catalogued(metrics);
  }

  /** Series at 0 for a stream step before it first reports. */
  declare(pipeline: string, step: string): void {
    this.#c.set(METRICS.streamRunning, { pipeline, step }, 0);
    this.#c.set(METRICS.streamReplicas, { pipeline, step }, 0);
    for (const counter of ['records_in', 'records_out', 'dead_letters']) this.#c.inc(METRICS.streamRecords, { counter, pipeline, step }, 0);
  }

  report(pipeline: string, ev: StatusEvent): void {
    const stream = `${pipeline}.${ev.step}`;
    let byAttempt = this.#latest.get(stream);
    if (!byAttempt) this.#latest.set(stream, (byAttempt = new Map()));
    this.#last.delete(stream);
    const prev = byAttempt.get(ev.attemptId);
    const seconds = prev ? (Date.parse(ev.ts) - Date.parse(prev.at)) / 1000 : 0;
    const rates: Record<string, number> = {};
    for (const [name, total] of Object.entries(ev.counters)) {
      const delta = Math.max(0, total - (prev?.counters[name] ?? 0));
      if (delta > 0) this.#c.inc(METRICS.streamRecords, { counter: name, pipeline, step: ev.step }, delta);
      rates[name] = seconds > 0 ? delta / seconds : 0;
    }
    const partitions = ev.partitions.map((p) => ({ ...p, lag: Math.max(0, p.end - p.offset) }));
    for (const p of partitions) this.#c.set(METRICS.streamLag, { partition: String(p.partition), pipeline, step: ev.step, topic: p.topic }, p.lag);
    byAttempt.set(ev.attemptId, {
      runId: ev.runId, attemptId: ev.attemptId, state: ev.state, partitions, counters: ev.counters, rates,
      message: ev.message ?? null, at: ev.ts,
    });
    this.#running(pipeline, ev.step);
  }

  /** The attempt ended: it no longer runs, whatever it said last (its last word stays until another reports). */
  ended(pipeline: string, step: string, attemptId: string): void {
    const stream = `${pipeline}.${step}`;
    const byAttempt = this.#latest.get(stream);
    const last = byAttempt?.get(attemptId);
    if (byAttempt && last) {
      byAttempt.delete(attemptId);
      if (byAttempt.size === 0) this.#last.set(stream, last);
    }
    this.#running(pipeline, step);
  }

  /** Attempts of the stream that have reported since they started. */
  reporting(stream: string): ReadonlySet<string> {
    return new Set(this.#latest.get(stream)?.keys() ?? []);
  }

  /** The stream's latest report: one attempt's, or the replicas' merged (partitions side by side, counters and rates summed). */
  latest(stream: string): StreamReport | undefined {
    const reports = [...(this.#latest.get(stream)?.values() ?? [])];
    if (reports.length <= 1) return reports[0] ?? this.#last.get(stream);
    const sum = (pick: (r: StreamReport) => Readonly<Record<string, number>>) => {
      const out: Record<string, number> = {};
      for (const r of reports) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const first = reports[0]!;
    // The state that needs attention shows: a replica backing off makes the stream back off.
    const state = reports.find((r) => r.state !== 'running')?.state ?? 'running';
    return {
      runId: first.runId, attemptId: first.attemptId, state, counters: sum((r) => r.counters), rates: sum((r) => r.rates),
      partitions: reports.flatMap((r) => r.partitions).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      message: reports.find((r) => r.message !== null)?.message ?? null, at: reports.map((r) => r.at).sort().at(-1)!,
    };
  }

  #running(pipeline: string, step: string): void {
    const live = [...(this.#latest.get(`${pipeline}.${step}`)?.values() ?? [])].filter((r) => r.state === 'running' || r.state === 'paused');
    this.#c.set(METRICS.streamRunning, { pipeline, step }, live.length > 0 ? 1 : 0);
    this.#c.set(METRICS.streamReplicas, { pipeline, step }, live.length);
  }
}
