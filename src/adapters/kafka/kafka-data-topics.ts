import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Admin, Consumer, ListOffsetTimestamps, stringDeserializer } from '@platformatic/kafka';
import { kafkaProducer } from './kafka-producer.ts';
import type { GroupPartitionsAssigner, Message, MessagesStream } from '@platformatic/kafka';
import { UnavailableError, ValidationError } from '../../core/errors.ts';
import type { DataRecord, DataTopics, PartitionRange, ReaderOptions, TopicReader } from '../../ports/data-topics.ts';
import { isAccessError, kafkaReason } from './kafka-reason.ts';
import { saslOption, type KafkaSasl } from './kafka-sasl.ts';
import { topicCreator } from './kafka-topics.ts';

export interface KafkaDataTopicsOptions {
  readonly bootstrap: readonly string[];
  readonly clientId: string;
  readonly sasl?: KafkaSasl;
  /** Prepended to every topic name and group id on the broker; default ''. */
  readonly topicPrefix?: string;
  /** Partitions of a data topic this client creates; default 3. */
  readonly partitions?: number;
}

type KafkaMessage = Message<string, Buffer, Buffer, Buffer>;

const MAX_REQUEST_BYTES = 512 * 1024;

// A reader's group only carries the assignment (offsets live in the metadata store), so a
// short session lets a replacement reader take the partitions soon after a kill -9.
const GROUP_TIMING = { sessionTimeout: 6_000, rebalanceTimeout: 10_000, heartbeatInterval: 500 } as const;

/** An assigner that gives each member of the group (a reader's group has one) just these partitions. */
function onlyPartitions(partitions: number[]): GroupPartitionsAssigner {
  return (_current, members, topics) =>
    [...members.keys()].map((memberId) => ({ memberId, assignments: new Map([...topics].map((topic) => [topic, { topic, partitions }])) }));
}

/**
 * Data topics on Kafka: an idempotent producer with acks=all, and readers that start at
 * explicit offsets (MANUAL mode) and commit nothing to the broker: each reader is the only
 * member of a group of its own, and its Readable's high-water mark bounds what it fetches
 * ahead, so a consumer that stops reading stops the fetching.
 *
 * @example
 * const topics = await createKafkaDataTopics({ bootstrap: ['127.0.0.1:9092'], clientId: 'connector' });
 * await topics.produce('sluice.data.klines', [{ key: 'BTCUSDT', value: '{"open":"1"}' }]);
 */
export async function createKafkaDataTopics(options: KafkaDataTopicsOptions): Promise<DataTopics> {
  if (options.bootstrap.length === 0) throw new ValidationError('kafka data topics need at least one bootstrap broker', 'bootstrap');
  const prefix = options.topicPrefix ?? '';
  const partitionCount = options.partitions ?? 3;
  const bootstrap = [...options.bootstrap];
  const auth = saslOption(options.sasl);
  const admin = new Admin({ clientId: options.clientId, bootstrapBrokers: bootstrap, retries: 5, retryDelay: 250, ...auth });
  const producer = kafkaProducer(options.clientId, bootstrap, options.sasl);
  // Answers offset lookups; it never joins a group.
  const lookup = new Consumer({ clientId: `${options.clientId}-offsets`, groupId: `${prefix}sluice-offsets-${randomUUID()}`, bootstrapBrokers: bootstrap, ...auth });
  const topics = topicCreator(admin);
  const readers = new Set<TopicReader>();
  let closed = false;

  async function ensure(topic: string): Promise<string> {
    if (closed) throw new UnavailableError(`kafka data topics are closed; cannot use ${topic}`, { retryable: false });
    if (!topic) throw new ValidationError('topic name must not be empty', 'topic');
    await topics.ensure(prefix + topic, { name: topic, partitions: partitionCount });
    return prefix + topic;
  }

  async function ranges(full: string): Promise<PartitionRange[]> {
    const [earliest, latest] = await Promise.all([
      lookup.listOffsets({ topics: [full], timestamp: ListOffsetTimestamps.EARLIEST }),
      lookup.listOffsets({ topics: [full], timestamp: ListOffsetTimestamps.LATEST }),
    ]);
    const starts = earliest.get(full) ?? [];
    const ends = latest.get(full) ?? [];
    return ends.map((end, partition) => ({ partition, start: Number(starts[partition] ?? 0n), end: Number(end) }));
  }

  return {
    kind: 'kafka',

    async produce(topic, records) {
      const full = await ensure(topic);
      if (records.length === 0) return;
      const messages = records.map((r) => ({ topic: full, key: r.key, value: typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength) }));
      // One request stays well under the broker's message.max.bytes (1 MiB by default).
      for (let i = 0; i < messages.length;) {
        let bytes = 0;
        let j = i;
        while (j < messages.length && (j === i || bytes + (messages[j] as { value: Buffer }).value.byteLength + 64 <= MAX_REQUEST_BYTES)) {
          bytes += (messages[j] as { value: Buffer }).value.byteLength + 64;
          j++;
        }
        await producer.send({ messages: messages.slice(i, j) }).catch((err: unknown) => {
          if (isAccessError(err)) throw new UnavailableError(`kafka produce to ${full}: ${kafkaReason(err)}`, { cause: err, retryable: false });
          throw new UnavailableError(`kafka produce to ${full}: ${kafkaReason(err)}`, { cause: err });
        });
        i = j;
      }
    },

    async partitions(topic) {
      return ranges(await ensure(topic));
    },

    async reader(topic, readerOptions: ReaderOptions) {
      const full = await ensure(topic);
      const given = new Map(readerOptions.from.map((f) => [f.partition, f.offset]));
      const wanted = readerOptions.partitions ? new Set(readerOptions.partitions) : null;
      // Every partition gets an explicit offset, so no broker default decides where a stream starts.
      const offsets = (await ranges(full)).filter((r) => !wanted || wanted.has(r.partition)).map((r) => ({
        topic: full,
        partition: r.partition,
        offset: BigInt(given.get(r.partition) ?? (readerOptions.otherwise === 'earliest' ? r.start : r.end)),
      }));
      const consumer = new Consumer<string, Buffer, Buffer, Buffer>({
        clientId: options.clientId,
        groupId: `${prefix}sluice-reader-${randomUUID()}`,
        bootstrapBrokers: bootstrap,
        deserializers: { key: stringDeserializer },
        // The reader is its group's only member: it is given exactly the partitions asked for.
        ...(wanted ? { partitionAssigner: onlyPartitions([...wanted]) } : {}),
        ...GROUP_TIMING,
        ...auth,
      });
      let stream: MessagesStream<string, Buffer, Buffer, Buffer>;
      try {
        stream = await consumer.consume({
          topics: [full], mode: 'manual', offsets, autocommit: false, maxWaitTime: 250, highWaterMark: readerOptions.buffer,
        });
      } catch (err) {
        await consumer.close(true).catch(() => undefined);
        throw new UnavailableError(`kafka reader on ${full}: ${kafkaReason(err)}`, { cause: err });
      }
      let failure: unknown = null;
      stream.on('error', (err: unknown) => (failure = err));
      // A 'readable' listener makes the stream fetch (it does not with no consumer at all)
      // while read() below decides how much is taken: the high-water mark is the bound.
      let wake: (() => void) | null = null;
      stream.on('readable', () => wake?.());
      let readerClosed = false;

      const reader: TopicReader = {
        async next(max, waitMs) {
          const out: DataRecord[] = [];
          const deadline = Date.now() + waitMs;
          while (out.length < max && !readerClosed) {
            if (failure) throw new UnavailableError(`kafka reader on ${full}: ${kafkaReason(failure)}`, { cause: failure });
            const m = stream.read() as KafkaMessage | null;
            if (m !== null) {
              out.push({ topic, partition: m.partition, offset: Number(m.offset), key: m.key ?? '', value: m.value ?? Buffer.alloc(0), timestamp: Number(m.timestamp) });
              continue;
            }
            const left = deadline - Date.now();
            if (out.length > 0 || left <= 0) break;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(done, left);
              function done() {
                clearTimeout(timer);
                wake = null;
                resolve();
              }
              wake = done;
            });
          }
          return out;
        },
        async close() {
          if (readerClosed) return;
          readerClosed = true;
          wake?.();
          readers.delete(reader);
          const ended = once(stream, 'close').catch(() => undefined);
          await stream.close().catch(() => undefined);
          await Promise.race([ended, new Promise((r) => setTimeout(r, 2_000).unref())]);
          await consumer.close(true).catch(() => undefined);
        },
      };
      readers.add(reader);
      return reader;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...readers].map((r) => r.close()));
      await Promise.allSettled([producer.close(), lookup.close(), admin.close()]);
    },
  };
}
