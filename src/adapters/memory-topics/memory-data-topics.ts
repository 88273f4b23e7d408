import { UnavailableError, ValidationError } from '../../core/errors.ts';
import type { DataRecord, DataTopics, PartitionRange, ProducedRecord, ReaderOptions, TopicReader } from '../../ports/data-topics.ts';
import { keyHash } from '../memory-bus/key-hash.ts';

export interface MemoryDataTopicsOptions {
  /** Partitions of a topic created on first use; default 3. */
  readonly partitions?: number;
  /** Bytes of values kept per partition; the oldest records go first. Default 64 MiB. */
  readonly retentionBytes?: number;
}

interface Partition {
  /** Retained records; `log[0]` has offset `start`. Compacted lazily. */
  log: DataRecord[];
  head: number;
  start: number;
  bytes: number;
}

interface Topic {
  readonly partitions: Partition[];
  /** Woken on every append: readers waiting for new records. */
  readonly waiters: Set<() => void>;
}

/**
 * Data topics inside this process (the embedded preset): a bounded log per partition,
 * records placed by key as Kafka places them (same key, same partition, in order). Readers
 * pull, so nothing is fetched ahead of the caller and memory stays flat at any lag.
 */
export function createMemoryDataTopics(options: MemoryDataTopicsOptions = {}): DataTopics {
  const partitionCount = options.partitions ?? 3;
  const retentionBytes = options.retentionBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new ValidationError(`data topics: partitions must be a positive integer, got ${partitionCount}`, 'partitions');
  if (!(retentionBytes > 0)) throw new ValidationError(`data topics: retentionBytes must be > 0, got ${retentionBytes}`, 'retentionBytes');
  const topics = new Map<string, Topic>();
  const readers = new Set<() => void>();
  let closed = false;

  function topicOf(name: string): Topic {
    if (closed) throw new UnavailableError(`data topics are closed; cannot use ${name}`, { retryable: false });
    if (!name) throw new ValidationError('topic name must not be empty', 'topic');
    let topic = topics.get(name);
    if (!topic) {
      topic = { partitions: Array.from({ length: partitionCount }, () => ({ log: [], head: 0, start: 0, bytes: 0 })), waiters: new Set() };
      topics.set(name, topic);
    }
    return topic;
  }

  function append(topic: string, p: Partition, partition: number, r: ProducedRecord, now: number): void {
    const value = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value);
    p.log.push({ topic, partition, offset: p.start + p.log.length - p.head, key: r.key, value, timestamp: now });
    p.bytes += value.byteLength;
    while (p.bytes > retentionBytes && p.log.length - p.head > 1) {
      const dropped = p.log[p.head] as DataRecord;
      p.bytes -= dropped.value.byteLength;
      p.head += 1;
      p.start += 1;
    }
    if (p.head > 4096 && p.head * 2 > p.log.length) {
      p.log = p.log.slice(p.head);
      p.head = 0;
    }
  }

  const end = (p: Partition) => p.start + p.log.length - p.head;

  return {
    kind: 'memory',

    async produce(name, records) {
      const topic = topicOf(name);
      const now = Date.now();
      for (const r of records) {
        const partition = keyHash(r.key) % partitionCount;
        append(name, topic.partitions[partition] as Partition, partition, r, now);
      }
      for (const wake of topic.waiters) wake();
    },

    async partitions(name): Promise<PartitionRange[]> {
      return topicOf(name).partitions.map((p, partition) => ({ partition, start: p.start, end: end(p) }));
    },

    async reader(name, readerOptions: ReaderOptions): Promise<TopicReader> {
      const topic = topicOf(name);
      const given = new Map(readerOptions.from.map((f) => [f.partition, f.offset]));
      const next = topic.partitions.map((p, i) => given.get(i) ?? (readerOptions.otherwise === 'earliest' ? p.start : end(p)));
      const wanted = readerOptions.partitions ? new Set(readerOptions.partitions) : null;
      let readerClosed = false;
      let turn = 0;
      let wakeMe: (() => void) | null = null;
      const stop = () => wakeMe?.();
      readers.add(stop);

      function take(max: number): DataRecord[] {
        const out: DataRecord[] = [];
        // Round-robin over partitions so one busy partition does not starve the others.
        for (let scanned = 0; scanned < partitionCount && out.length < max; scanned++) {
          const i = (turn + scanned) % partitionCount;
          if (wanted && !wanted.has(i)) continue;
          const p = topic.partitions[i] as Partition;
          // Records dropped by retention before this reader got to them are gone, as on a broker.
          let at = Math.max(next[i] as number, p.start);
          const last = end(p);
          for (; at < last && out.length < max; at++) out.push(p.log[p.head + at - p.start] as DataRecord);
          next[i] = at;
        }
        turn = (turn + 1) % partitionCount;
        return out;
      }

      return {
        async next(max, waitMs) {
          if (readerClosed || closed) return [];
          const now = take(max);
          if (now.length > 0) return now;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, waitMs);
            function done() {
              clearTimeout(timer);
              topic.waiters.delete(done);
              wakeMe = null;
              resolve();
            }
            topic.waiters.add(done);
            wakeMe = done;
          });
          return readerClosed || closed ? [] : take(max);
        },
        async close() {
          readerClosed = true;
          stop();
          readers.delete(stop);
        },
      };
    },

    async close() {
      closed = true;
      for (const stop of readers) stop();
      readers.clear();
    },
  };
}
