import type { AsyncLocalStorage } from 'node:async_hooks';
import { saslOption, type KafkaSasl } from './kafka-sasl.ts';
import { once } from 'node:events';
import { Consumer, stringDeserializer } from '@platformatic/kafka';
import type { GroupAssignment, Message, MessagesStream } from '@platformatic/kafka';
import type { BusMessage, Subscription } from '../../ports/event-bus.ts';

type Handler = (m: BusMessage) => Promise<void> | void;
type KafkaMessage = Message<string, Buffer, Buffer, Buffer>;

export interface SubscriptionSettings {
  readonly bootstrap: readonly string[];
  readonly clientId: string;
  readonly sasl?: KafkaSasl;
  /** Full names, prefix included; `topic` is what handlers see. */
  readonly fullTopic: string;
  readonly topic: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly handler: Handler;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly onGiveUp: (error: unknown, message: BusMessage, attempts: number) => void;
  readonly onError: (error: unknown) => void;
  /** Shared by a bus's subscriptions: tells `close` it runs inside this subscription's handler. */
  readonly inHandler: AsyncLocalStorage<object>;
}

const MAX_RETRY_DELAY_MS = 5_000;
/** Messages taken from the stream but not handled yet; the stream pauses above this. */
const QUEUE_HIGH = 256;
/** Handled messages between offset commits within one burst. */
const COMMIT_EVERY = 64;
const RECONNECT_DELAY_MS = 1_000;

// Tuned so that a group forms and rebalances in well under a second on an idle broker:
// members notice a rebalance on their next heartbeat, and a member that vanished without
// leaving (a kill -9, a lost node) is dropped after the session timeout: the broker's
// default minimum (group.min.session.timeout.ms, 6 s), 20 heartbeats, so that a standby
// control plane takes over the events well within 15 s.
const GROUP_TIMING = { sessionTimeout: 6_000, rebalanceTimeout: 10_000, heartbeatInterval: 300 } as const;

/**
 * One Kafka consumer group member for one subscription. Resolves once the member has joined
 * the group, received its partitions and resolved where to read from, so a message published
 * after `subscribe` resolved is never missed. Handlers run one at a time; an offset is
 * committed only after the handler resolved (or the message was given up).
 */
export async function openSubscription(settings: SubscriptionSettings): Promise<Subscription> {
  const { fullTopic, handler, maxAttempts, retryDelayMs, inHandler } = settings;
  const self = {};
  const queue: KafkaMessage[] = [];
  /** Next offset expected per owned partition: a rebalance rewinds the stream to the committed offset. */
  const nextOffset = new Map<number, bigint>();
  let consumer: Consumer<string, Buffer, Buffer, Buffer> | undefined;
  let stream: MessagesStream<string, Buffer, Buffer, Buffer> | undefined;
  let owned = new Set<number>();
  let closing = false;
  let running = false;
  /** Pending sleeps (a redelivery backoff, a reconnect delay); closing wakes them. */
  const wakers = new Set<() => void>();
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => undefined;
  let closed: Promise<void> | undefined;

  function onAssignment(assignments: GroupAssignment[] | null | undefined): void {
    owned = new Set((assignments ?? []).filter((a) => a.topic === fullTopic).flatMap((a) => a.partitions));
    for (const partition of nextOffset.keys()) if (!owned.has(partition)) nextOffset.delete(partition);
    // Whatever was fetched for a partition that moved on belongs to its new owner now.
    for (let i = queue.length - 1; i >= (running ? 1 : 0); i--) {
      if (!owned.has((queue[i] as KafkaMessage).partition)) queue.splice(i, 1);
    }
  }

  function onData(m: KafkaMessage): void {
    if (closing || !owned.has(m.partition)) return;
    const expected = nextOffset.get(m.partition);
    if (expected !== undefined && m.offset < expected) return;
    nextOffset.set(m.partition, m.offset + 1n);
    queue.push(m);
    if (queue.length >= QUEUE_HIGH) stream?.pause();
    pump();
  }

  function pump(): void {
    if (running || closing || queue.length === 0) return;
    running = true;
    idle = new Promise((resolve) => (markIdle = resolve));
    // Always on a later turn of the event loop, never inside whatever fed the queue.
    setImmediate(() => {
      void drain().finally(() => {
        running = false;
        markIdle();
        // A rebalance may have emptied the queue while the stream was paused for it.
        if (stream?.isPaused() && queue.length < QUEUE_HIGH / 2) stream.resume();
        if (!closing && queue.length > 0) pump();
      });
    });
  }

  async function drain(): Promise<void> {
    // Offsets are committed per burst rather than per message: committing a message's
    // offset covers every earlier one in its partition, and a crash before the commit only
    // means redelivery (at least once), never loss.
    const uncommitted = new Map<number, KafkaMessage>();
    let handled = 0;
    const commitAll = async () => {
      for (const m of uncommitted.values()) await commit(m);
      uncommitted.clear();
      handled = 0;
    };
    try {
      while (!closing && queue.length > 0) {
        const m = queue[0] as KafkaMessage;
        if (!(await deliver(m))) return;
        if (queue[0] === m) queue.shift();
        uncommitted.set(m.partition, m);
        if (queue.length === 0 || ++handled >= COMMIT_EVERY) await commitAll();
        if (stream?.isPaused() && queue.length < QUEUE_HIGH / 2) stream.resume();
      }
    } finally {
      await commitAll();
    }
  }

  /** Calls the handler until it resolves or gives up; false when closing interrupted it. */
  async function deliver(m: KafkaMessage): Promise<boolean> {
    for (let attempts = 1; ; attempts++) {
      let message: BusMessage;
      try {
        message = toBusMessage(settings.topic, m);
      } catch (err) {
        // Not JSON: no attempt can fix that.
        safely(() => settings.onGiveUp(err, { topic: settings.topic, key: m.key ?? '', value: m.value?.toString('utf8'), offset: String(m.offset) }, attempts));
        return true;
      }
      try {
        await inHandler.run(self, () => handler(message));
        return true;
      } catch (err) {
        if (attempts >= maxAttempts) {
          safely(() => settings.onGiveUp(err, message, attempts));
          return true;
        }
        await sleep(Math.min(retryDelayMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS));
        if (closing) return false;
      }
    }
  }

  async function commit(m: KafkaMessage): Promise<void> {
    // A partition that moved to another member during the handler is that member's to commit.
    if (!owned.has(m.partition)) return;
    try {
      await m.commit();
    } catch (err) {
      // The message is redelivered after the next rebalance: at least once, never lost.
      if (!closing) safely(() => settings.onError(err));
    }
  }

  /** Sleeps before a redelivery; closing cuts the wait short. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  async function connect(): Promise<void> {
    const c = new Consumer<string, Buffer, Buffer, Buffer>({
      clientId: settings.clientId,
      bootstrapBrokers: [...settings.bootstrap],
      groupId: settings.groupId,
      deserializers: { key: stringDeserializer },
      autocommit: false,
      ...GROUP_TIMING,
      // Short long-polls: a closing subscription or a rebalance never waits long for a fetch.
      maxWaitTime: 500,
      highWaterMark: QUEUE_HIGH,
      retries: 10,
      retryDelay: 250,
      ...saslOption(settings.sasl),
    });
    consumer = c;
    let ready = false;
    c.on('consumer:group:join', (payload) => onAssignment(payload.assignments));
    // A failed rejoin after a rebalance: the member stopped heartbeating and must start over.
    c.on('error', (err: unknown) => (ready ? lost(c, err) : safely(() => settings.onError(err))));
    try {
      const s = await c.consume({ topics: [fullTopic], mode: 'committed', fallbackMode: settings.fromBeginning ? 'earliest' : 'latest' });
      stream = s;
      // The stream resolves its start offsets (committed, or the fallback) right after the join.
      const offsets = once(s, 'offsets');
      s.on('data', onData);
      // Before `offsets`, a failure rejects `offsets` and thereby connect().
      s.on('error', (err) => ready && lost(c, err));
      s.on('close', () => ready && lost(c, new Error(`kafka stream for ${fullTopic} closed unexpectedly`)));
      onAssignment(c.assignments);
      await offsets;
      ready = true;
    } catch (err) {
      await c.close(true).catch(() => undefined);
      throw err;
    }
  }

  /** A stream that died under us (e.g. a commit after the group moved on): rejoin. */
  function lost(c: Consumer<string, Buffer, Buffer, Buffer>, err: unknown): void {
    if (closing || consumer !== c) return;
    consumer = undefined;
    stream = undefined;
    safely(() => settings.onError(err));
    queue.splice(running ? 1 : 0);
    owned = new Set();
    nextOffset.clear();
    void (async () => {
      await c.close(true).catch(() => undefined);
      while (!closing) {
        await sleep(RECONNECT_DELAY_MS);
        if (closing) return;
        try {
          await connect();
          return;
        } catch (reconnectError) {
          safely(() => settings.onError(reconnectError));
        }
      }
    })();
  }

  async function teardown(): Promise<void> {
    await idle;
    const c = consumer;
    const s = stream;
    consumer = undefined;
    stream = undefined;
    s?.removeListener('data', onData);
    await s?.close().catch(() => undefined);
    await c?.close(true).catch((err: unknown) => safely(() => settings.onError(err)));
  }

  await connect();

  function close(): Promise<void> {
    if (!closed) {
      closing = true;
      for (const done of [...wakers]) done();
      closed = teardown();
    }
    // From inside its own handler, waiting for the handler would never end.
    return inHandler.getStore() === self ? Promise.resolve() : closed;
  }

  return { close };
}

function toBusMessage(topic: string, m: KafkaMessage): BusMessage {
  const value: unknown = m.value === undefined || m.value.length === 0 ? undefined : JSON.parse(m.value.toString('utf8'));
  return { topic, key: m.key ?? '', value, offset: String(m.offset) };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A failing observer must not stop delivery.
  }
}
