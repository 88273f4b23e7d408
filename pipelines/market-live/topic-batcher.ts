import type { DataTopics } from 'sluice';

/** Past this many records waiting for one topic, the topic cannot keep up: `push` says so. */
const MAX_WAITING = 200_000;
/** Ack latencies kept for the percentile (the newest, in a ring). */
const LATENCY_RING = 4_096;

/**
 * Records on their way to data topics: `push` queues one with the moment its message
 * arrived, `flush` produces everything waiting (one produce per topic) and notes, for each
 * record, how long it took from arrival to the topic's acknowledgement. Flushed every few
 * milliseconds by the feed, so a record waits for the next flush, not for a full batch.
 */
export class TopicBatcher {
  readonly #topics: DataTopics;
  readonly #waiting = new Map<string, { key: string; value: string; at: number }[]>();
  readonly #latencies = new Float64Array(LATENCY_RING);
  #latencyCount = 0;
  produced = 0;

  constructor(topics: DataTopics) {
    this.#topics = topics;
  }

  /** Queues a record; false (and nothing queued) when the topic is this far behind. */
  push(topic: string, key: string, row: Record<string, unknown>, at = performance.now()): boolean {
    let list = this.#waiting.get(topic);
    if (!list) {
      list = [];
      this.#waiting.set(topic, list);
    }
    if (list.length >= MAX_WAITING) return false;
    list.push({ key, value: JSON.stringify(row), at });
    return true;
  }

  get waiting(): number {
    let n = 0;
    for (const l of this.#waiting.values()) n += l.length;
    return n;
  }

  async flush(): Promise<void> {
    for (const [topic, list] of this.#waiting) {
      if (list.length === 0) continue;
      const batch = list.splice(0);
      await this.#topics.produce(topic, batch);
      const acked = performance.now();
      for (const r of batch) this.#latencies[this.#latencyCount++ % LATENCY_RING] = acked - r.at;
      this.produced += batch.length;
    }
  }

  /** The p-th percentile (0–100) of arrival → ack over the latest records, in ms. */
  latency(p: number): number {
    const n = Math.min(this.#latencyCount, LATENCY_RING);
    if (n === 0) return 0;
    const sorted = Array.from(this.#latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor((p / 100) * n))] as number;
  }
}
