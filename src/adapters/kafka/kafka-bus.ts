import { AsyncLocalStorage } from 'node:async_hooks';
import { Admin } from '@platformatic/kafka';
import { kafkaProducer } from './kafka-producer.ts';
import { UnavailableError, ValidationError } from '../../core/errors.ts';
import type { BusMessage, EventBus, Subscription } from '../../ports/event-bus.ts';
import { isAccessError, kafkaReason } from './kafka-reason.ts';
import { saslOption, type KafkaSasl } from './kafka-sasl.ts';
import { openSubscription } from './kafka-subscription.ts';
import { topicCreator } from './kafka-topics.ts';
import type { KafkaTopicSpec } from './kafka-topics.ts';

export type { KafkaTopicSpec } from './kafka-topics.ts';

export interface KafkaBusOptions {
  /** `host:port` of one or more brokers. */
  readonly bootstrap: readonly string[];
  readonly clientId: string;
  /** Authenticate to the brokers (SASL_PLAINTEXT); none by default. */
  readonly sasl?: KafkaSasl;
  /** Created at connect when missing; any other topic gets one partition on first use. */
  readonly topics?: readonly KafkaTopicSpec[];
  /**
   * Prepended to every topic name and consumer group id on the broker (handlers still see
   * the plain topic name), so buses with different prefixes share nothing. Default ''.
   */
  readonly topicPrefix?: string;
  /** Deliveries of one message to one subscription before it is given up; default 10. */
  readonly maxAttempts?: number;
  /** Delay before the first redelivery, doubled per attempt up to 5 s; default 100 ms. */
  readonly retryDelayMs?: number;
  /**
   * Called when a message is given up after `maxAttempts` failed deliveries (or at once
   * when its value is not JSON); its offset is then committed. Default: a process warning.
   */
  readonly onGiveUp?: (error: unknown, message: BusMessage, attempts: number) => void;
  /**
   * Errors no caller is waiting for: a failed commit, a consumer that lost its stream and
   * rejoins the group. Default: a process warning.
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * An EventBus on Apache Kafka (DESIGN.md §4). Values travel as JSON, keys as strings, and
 * a key always lands on the same partition, so its messages stay in order. Each
 * subscription is one member of a Kafka consumer group: `fromBeginning` applies to a group
 * without committed offsets, as `auto.offset.reset=earliest` does. Offsets are committed
 * only after the handler resolved; a throwing handler gets the message again after a
 * backoff, and after `maxAttempts` it is given up and skipped, as on the memory bus.
 *
 * @example
 * const bus = await createKafkaBus({ bootstrap: ['127.0.0.1:9092'], clientId: 'coordinator',
 *   topics: [{ name: TOPICS.events, partitions: 12, retentionMs: 7 * 24 * 3600_000 }] });
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<EventBus> {
  const prefix = options.topicPrefix ?? '';
  const maxAttempts = options.maxAttempts ?? 10;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const onGiveUp = options.onGiveUp ?? warnGiveUp;
  const onError = options.onError ?? warnError;
  validate(options, maxAttempts, retryDelayMs);
  const bootstrap = [...options.bootstrap];
  const specs = new Map((options.topics ?? []).map((t) => [t.name, t]));

  const auth = saslOption(options.sasl);
  const admin = new Admin({ clientId: options.clientId, bootstrapBrokers: bootstrap, retries: 5, retryDelay: 250, ...auth });
  const producer = kafkaProducer(options.clientId, bootstrap, options.sasl);
  const topics = topicCreator(admin);
  const subscriptions = new Set<Subscription>();
  const inHandler = new AsyncLocalStorage<object>();
  let closed = false;

  try {
    await Promise.all([...specs.values()].map((spec) => topics.ensure(prefix + spec.name, spec)));
  } catch (err) {
    await Promise.allSettled([producer.close(), admin.close()]);
    throw new UnavailableError(`kafka bus cannot create its topics on ${bootstrap.join(',')}: ${kafkaReason(err)}`, { cause: err });
  }

  function checkTopic(action: string, topic: string): void {
    if (closed) throw new UnavailableError(`kafka bus is closed; cannot ${action} ${topic}`, { retryable: false });
    if (!topic) throw new ValidationError('topic name must not be empty', 'topic');
  }

  return {
    kind: 'kafka',

    async publish(topic, key, value) {
      checkTopic('publish to', topic);
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (err) {
        throw new ValidationError(`cannot publish to ${topic}: value is not JSON (${(err as Error).message})`, 'value', err);
      }
      await topics.ensure(prefix + topic, specs.get(topic));
      checkTopic('publish to', topic);
      await producer.send({ messages: [{ topic: prefix + topic, key, value: json === undefined ? undefined : Buffer.from(json) }] }).catch((err: unknown) => {
        // A refused credential or ACL is a configuration problem: say so, and do not retry it.
        if (isAccessError(err)) throw new UnavailableError(`kafka publish to ${prefix + topic}: ${kafkaReason(err)}`, { cause: err, retryable: false });
        throw err;
      });
    },

    async subscribe(topic, subscribeOptions, handler) {
      checkTopic('subscribe to', topic);
      if (!subscribeOptions.group) throw new ValidationError(`subscription to ${topic} needs a group`, 'group');
      await topics.ensure(prefix + topic, specs.get(topic));
      checkTopic('subscribe to', topic);
      const subscription = await openSubscription({
        bootstrap,
        clientId: options.clientId,
        sasl: options.sasl,
        fullTopic: prefix + topic,
        topic,
        groupId: prefix + subscribeOptions.group,
        fromBeginning: subscribeOptions.fromBeginning ?? false,
        handler,
        maxAttempts,
        retryDelayMs,
        onGiveUp,
        onError,
        inHandler,
      });
      const tracked: Subscription = {
        close: () => {
          subscriptions.delete(tracked);
          return subscription.close();
        },
      };
      subscriptions.add(tracked);
      // Closed while joining: this subscription must not outlive the bus.
      if (closed) await tracked.close();
      return tracked;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.close()));
      await Promise.allSettled([producer.close(), admin.close()]);
    },
  };
}

function validate(options: KafkaBusOptions, maxAttempts: number, retryDelayMs: number): void {
  if (options.bootstrap.length === 0) throw new ValidationError('kafka bus needs at least one bootstrap broker', 'bootstrap');
  if (!options.clientId) throw new ValidationError('kafka bus needs a clientId', 'clientId');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new ValidationError(`kafka bus maxAttempts must be a positive integer, got ${maxAttempts}`, 'maxAttempts');
  if (!(retryDelayMs >= 0)) throw new ValidationError(`kafka bus retryDelayMs must be >= 0, got ${retryDelayMs}`, 'retryDelayMs');
  for (const t of options.topics ?? []) {
    if (!t.name) throw new ValidationError('kafka bus topics need a name', 'topics');
    if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new ValidationError(`topic ${t.name}: partitions must be a positive integer, got ${t.partitions}`, 'topics');
    if (t.retentionMs !== undefined && !(Number.isInteger(t.retentionMs) && t.retentionMs >= -1)) {
      throw new ValidationError(`topic ${t.name}: retentionMs must be an integer >= -1 (-1: keep forever), got ${t.retentionMs}`, 'topics');
    }
  }
}

function warnGiveUp(error: unknown, message: BusMessage, attempts: number): void {
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`kafka bus gave up on ${message.topic}@${message.offset} (key ${message.key}) after ${attempts} attempts: ${reason}`);
}

function warnError(error: unknown): void {
  process.emitWarning(`kafka bus: ${error instanceof Error ? error.message : String(error)}`);
}
