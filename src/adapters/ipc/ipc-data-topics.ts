import { UnavailableError } from '../../core/errors.ts';
import type { DataRecord, DataTopics, PartitionRange, ReaderOptions, TopicReader } from '../../ports/data-topics.ts';
import type { IpcClient } from './ipc-client.ts';

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
    if (records.length > 0) await this.#client.request({ op: 'dt.produce', topic, records: [...records] });
  }

  async partitions(topic: string): Promise<PartitionRange[]> {
    this.#open(topic);
    return (await this.#client.request({ op: 'dt.partitions', topic })) as PartitionRange[];
  }

  async reader(topic: string, options: ReaderOptions): Promise<TopicReader> {
    this.#open(topic);
    const client = this.#client;
    const id = client.nextId();
    await client.request({ op: 'dt.reader', reader: id, topic, from: [...options.from], otherwise: options.otherwise, buffer: options.buffer });
    let closed = false;
    const reader: TopicReader = {
      async next(max, waitMs) {
        if (closed) return [];
        const got = (await client.request({ op: 'dt.next', reader: id, max, waitMs: Math.min(waitMs, 60_000) })) as DataRecord[];
        return got;
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
