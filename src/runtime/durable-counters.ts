import { describeError } from '../core/errors.ts';
import type { GaugeStore, GaugeValue } from '../ports/metadata-store.ts';
import type { Labels, Metrics } from '../ports/metrics.ts';
import type { Logger } from './services.ts';

interface Total {
  readonly name: string;
  readonly help: string;
  readonly labels: Labels;
  value: number;
}

const keyOf = (name: string, labels: Labels) =>
  `${name}\u0000${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;

/**
 * Metrics whose counters survive a restart, as gauges do: each counter's total is kept in
 * the metadata store and added back at start, so `sluice_runs_total` does not fall to zero
 * when the control plane restarts (a reset Prometheus would paper over, but a person
 * reading /metrics or `sluice metrics` would not). Totals are written a moment after they
 * change, batched, and on close; a crash loses at most that moment's increments.
 * Rebuilding them from the runs table instead would go backwards once retention prunes.
 */
export class DurableCounters implements Metrics {
  readonly #inner: Metrics;
  readonly #store: Pick<GaugeStore, 'put'>;
  readonly #logger: Logger;
  readonly #flushMs: number;
  readonly #totals = new Map<string, Total>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(inner: Metrics, store: Pick<GaugeStore, 'put'>, options: { logger: Logger; flushMs?: number }) {
    this.#inner = inner;
    this.#store = store;
    this.#logger = options.logger;
    this.#flushMs = options.flushMs ?? 1_000;
  }

  /** Puts back what the store kept: gauges at their value, counters at their total. */
  restore(values: readonly GaugeValue[]): void {
    for (const v of values) {
      // In name order, as the code passes them: the store keeps its own key order, and
      // /metrics prints labels in the order a series first saw them.
      const labels = Object.fromEntries(Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b)));
      if (v.kind !== 'counter') {
        this.#inner.setGauge(v.name, v.help, labels, v.value);
        continue;
      }
      this.#inner.incCounter(v.name, v.help, labels, v.value);
      this.#totals.set(keyOf(v.name, labels), { name: v.name, help: v.help, labels, value: v.value });
    }
  }

  setGauge(name: string, help: string, labels: Labels, value: number): void {
    this.#inner.setGauge(name, help, labels, value);
  }

  incCounter(name: string, help: string, labels: Labels, by = 1): void {
    this.#inner.incCounter(name, help, labels, by);
    const key = keyOf(name, labels);
    const total = this.#totals.get(key);
    if (total) total.value += by;
    else this.#totals.set(key, { name, help, labels: { ...labels }, value: by });
    this.#dirty.add(key);
    if (this.#timer === null && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  observe(name: string, help: string, labels: Labels, value: number): void {
    this.#inner.observe(name, help, labels, value);
  }

  render(options?: { readonly process?: boolean }): Promise<string> {
    return this.#inner.render(options);
  }

  get contentType(): string {
    return this.#inner.contentType;
  }

  /** Writes the totals that changed; one write at a time, and a failed one is tried again later. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flushing = this.#flushing.then(async () => {
      const keys = [...this.#dirty];
      if (keys.length === 0) return;
      this.#dirty.clear();
      const updatedAt = new Date().toISOString();
      const values = keys.map((k): GaugeValue => {
        const t = this.#totals.get(k)!;
        return { kind: 'counter', name: t.name, help: t.help, labels: t.labels, value: t.value, updatedAt };
      });
      try {
        await this.#store.put(values);
      } catch (err) {
        for (const k of keys) this.#dirty.add(k);
        this.#logger.warn({ err: describeError(err) }, 'could not save counter totals; trying again');
        if (!this.#closed && this.#timer === null) {
          this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
          this.#timer.unref();
        }
      }
    });
    return this.#flushing;
  }

  /** Writes what is left; call before the store closes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
