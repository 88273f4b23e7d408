import { METRICS } from '../../core/metric-catalogue.ts';
import { catalogued } from '../../runtime/catalogued-metrics.ts';
import type { Metrics } from '../../ports/metrics.ts';
import { BusyError } from '../busy-error.ts';

export interface StreamCaps {
  readonly maxStreamsPerToken: number;
  readonly maxStreams: number;
}

/** Clients are told to come back after this long; streams rarely free up faster. */
const RETRY_AFTER_S = 5;

/**
 * Counts open event streams per token and in all, so a handful of callers cannot hold
 * every socket and every buffer of the server.
 */
export class StreamLimiter {
  readonly #caps: StreamCaps;
  readonly #metrics: Metrics | undefined;
  readonly #perKey = new Map<string, number>();
  #total = 0;

  constructor(caps: StreamCaps, metrics?: Metrics) {
    this.#caps = caps;
    this.#metrics = metrics;
  }

  get open(): number {
    return this.#total;
  }

  /** Takes a slot for `key` or throws a BusyError; the returned function gives it back once. */
  acquire(key: string): () => void {
    const mine = this.#perKey.get(key) ?? 0;
    if (mine >= this.#caps.maxStreamsPerToken) {
      this.#refused('per_token');
      throw new BusyError('too_many_requests', `${key} already has ${mine} event streams open (at most ${this.#caps.maxStreamsPerToken} per token)`, RETRY_AFTER_S);
    }
    if (this.#total >= this.#caps.maxStreams) {
      this.#refused('global');
      throw new BusyError('unavailable', `the server has ${this.#total} event streams open (at most ${this.#caps.maxStreams})`, RETRY_AFTER_S);
    }
    this.#perKey.set(key, mine + 1);
    this.#total++;
    this.#gauge();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (this.#perKey.get(key) ?? 1) - 1;
      if (n === 0) this.#perKey.delete(key);
      else this.#perKey.set(key, n);
      this.#total--;
      this.#gauge();
    };
  }

  #gauge(): void {
    if (this.#metrics) catalogued(this.#metrics).set(METRICS.sseStreams, {}, this.#total);
  }

  #refused(reason: string): void {
    if (this.#metrics) catalogued(this.#metrics).inc(METRICS.sseRefused, { reason });
  }
}
