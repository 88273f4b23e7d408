import { UnavailableError } from '../../core/errors.ts';
import type { DataRecord, DataTopics, PartitionRange, ReaderOptions, TopicReader } from '../../ports/data-topics.ts';
import type { IpcClient } from './ipc-client.ts';

const PRODUCE_CHUNK = 10_000;

/**
 * DataTopics for a forked worker whose control plane owns the real ones (the in-process log
 * lives in one process only): every call is a request the parent serves on its own topics,
 * and a reader is the parent's reader, pulled one `next` at a time, so nothing is fetched
 * ahead of this process either.
 */
export class IpcDataTopics implements DataTopics {
  readonly kind = 'ipc';
  readonly #client: IpcClient;
  readonly #readers = new Set<TopicReader>();
  #closed = false;

  constructor(client: IpcClient) {
    this.#client = client;
  }

  async produce(topic: string, records: readonly { key: string; value: Uint8Array | string }[]): Promise<void> {
    this.#open(topic);
    // The bridge takes a bounded number of records per request (the protocol's cap).
    for (let i = 0; i < records.length; i += PRODUCE_CHUNK) {
      await this.#client.request({ op: 'dt.produce', topic, records: records.slice(i, i + PRODUCE_CHUNK) });
    }
  }

  async partitions(topic: string): Promise<PartitionRange[]> {
    this.#open(topic);
    return (await this.#client.request({ op: 'dt.partitions', topic })) as PartitionRange[];
  }

  async reader(topic: string, options: ReaderOptions): Promise<TopicReader> {
    this.#open(topic);
    const client = this.#client;
    const id = client.nextId();
    await client.request({ op: 'dt.reader', reader: id, topic, from: [...options.from], otherwise: options.otherwise, buffer: options.buffer, ...(options.partitions ? { partitions: [...options.partitions] } : {}) });
    let closed = false;
    const reader: TopicReader = {
      async next(max, waitMs) {
        if (closed) return [];
        return (await client.request({ op: 'dt.next', reader: id, max: Math.min(max, 100_000), waitMs: Math.min(waitMs, 60_000) })) as DataRecord[];
      },
      close: async () => {
        if (closed) return;
        closed = true;
        this.#readers.delete(reader);
        if (client.connected) await client.request({ op: 'dt.close', reader: id }).catch(() => undefined);
      },
    };
    this.#readers.add(reader);
    return reader;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#readers].map((r) => r.close()));
  }

  #open(topic: string): void {
    if (this.#closed) throw new UnavailableError(`data topics are closed; cannot use ${topic}`, { retryable: false });
  }
}
