import { AsyncLocalStorage } from 'node:async_hooks';
import { UnavailableError } from '../../core/errors.ts';
import type { BusMessage, EventBus, Subscription } from '../../ports/event-bus.ts';
import { keyHash } from './key-hash.ts';

export interface MemoryBusOptions {
  /** Messages kept per topic for `fromBeginning` and idle groups; oldest dropped first. */
  readonly retention?: number;
  /** Deliveries of one message to one subscription before it is given up; default 10. */
  readonly maxAttempts?: number;
  /** Delay before the first redelivery, doubled per attempt up to 5 s; default 100 ms. */
  readonly retryDelayMs?: number;
  /**
   * Called when a message is given up after `maxAttempts` failed deliveries; the
   * subscription then moves on to its next message. Default: a process warning.
   */
  readonly onGiveUp?: (error: unknown, message: BusMessage, attempts: number) => void;
}

type Handler = (m: BusMessage) => Promise<void> | void;

interface Stored {
  readonly topic: string;
  readonly key: string;
  readonly value: unknown;
  readonly offset: number;
}

interface Topic {
  log: (Stored | undefined)[];
  /** Index in `log` of the oldest retained message; the array is compacted lazily. */
  head: number;
  next: number;
  readonly groups: Map<string, Group>;
}

/**
 * A consumer group. `cursor` is the next offset not yet handed to a member; messages a
 * member took but did not finish go back to `backlog` when it leaves. The group outlives
 * its members (like committed offsets on Kafka): a later subscriber with the same group
 * name continues where the group stopped, and its `fromBeginning` is ignored.
 */
interface Group {
  readonly topic: Topic;
  cursor: number;
  backlog: Stored[];
  readonly members: Member[];
}

interface Member {
  readonly group: Group;
  readonly handler: Handler;
  queue: { readonly message: Stored; attempts: number }[];
  /** Keys with messages in `queue`: new messages of such a key stick to this member. */
  readonly pendingKeys: Map<string, number>;
  running: boolean;
  scheduled: boolean;
  closing: boolean;
  finalized: boolean;
  wake?: () => void;
  done?: Promise<void>;
  resolveDone?: () => void;
}

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * An EventBus inside this process, with the semantics of one Kafka partition per topic:
 * an ordered log, consumer groups that share messages (by key, so a key's messages stay
 * in order), at-least-once delivery. Handlers always run on a later turn of the event
 * loop, never inside publish, so code written against this bus also works on Kafka.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const retention = options.retention ?? 100_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const onGiveUp = options.onGiveUp ?? warnGiveUp;
  if (!Number.isInteger(retention) || retention < 1) throw new Error(`memory bus retention must be a positive integer, got ${retention}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`memory bus maxAttempts must be a positive integer, got ${maxAttempts}`);

  const topics = new Map<string, Topic>();
  const members = new Set<Member>();
  // Lets a handler close its own subscription without waiting for itself to finish.
  const inHandler = new AsyncLocalStorage<Member>();
  let closed = false;

  function topicOf(name: string): Topic {
    let topic = topics.get(name);
    if (!topic) {
      topic = { log: [], head: 0, next: 0, groups: new Map() };
      topics.set(name, topic);
    }
    return topic;
  }

  function firstOffset(topic: Topic): number {
    return topic.next - (topic.log.length - topic.head);
  }

  function append(topic: Topic, message: Stored): void {
    topic.log.push(message);
    topic.next += 1;
    if (topic.log.length - topic.head > retention) {
      topic.log[topic.head] = undefined;
      topic.head += 1;
      if (topic.head > 4096 && topic.head * 2 > topic.log.length) {
        topic.log = topic.log.slice(topic.head);
        topic.head = 0;
      }
    }
  }

  /** Hands everything the group has not handed out yet to its members. */
  function dispatch(group: Group): void {
    const { topic } = group;
    const active = group.members.filter((m) => !m.closing);
    if (active.length === 0) return;
    const first = firstOffset(topic);
    // Messages dropped by retention before this group saw them are gone, as on a broker.
    if (group.cursor < first) group.cursor = first;
    const pending = group.backlog.splice(0);
    for (let offset = group.cursor; offset < topic.next; offset++) {
      pending.push(topic.log[topic.head + offset - first] as Stored);
    }
    group.cursor = topic.next;
    for (const message of pending) {
      const sticky = group.members.find((m) => m.pendingKeys.has(message.key));
      const member = sticky ?? (active[keyHash(message.key) % active.length] as Member);
      member.queue.push({ message, attempts: 0 });
      member.pendingKeys.set(message.key, (member.pendingKeys.get(message.key) ?? 0) + 1);
      schedule(member);
    }
  }

  function schedule(member: Member): void {
    if (member.running || member.scheduled || member.closing) return;
    member.scheduled = true;
    setImmediate(() => {
      member.scheduled = false;
      void pump(member);
    });
  }

  async function pump(member: Member): Promise<void> {
    if (member.running || member.closing) return;
    member.running = true;
    while (!member.closing && member.queue.length > 0) {
      const delivery = member.queue[0] as Member['queue'][number];
      const { message } = delivery;
      const copy: BusMessage = { topic: message.topic, key: message.key, value: structuredClone(message.value), offset: String(message.offset) };
      try {
        await inHandler.run(member, () => member.handler(copy));
        consumed(member);
      } catch (err) {
        delivery.attempts += 1;
        if (delivery.attempts >= maxAttempts) {
          consumed(member);
          safely(() => onGiveUp(err, copy, delivery.attempts));
        } else {
          await sleep(member, Math.min(retryDelayMs * 2 ** (delivery.attempts - 1), MAX_RETRY_DELAY_MS));
        }
      }
    }
    member.running = false;
    if (member.closing) finalize(member);
  }

  function consumed(member: Member): void {
    const delivery = member.queue.shift();
    if (!delivery) return;
    const left = (member.pendingKeys.get(delivery.message.key) ?? 1) - 1;
    if (left === 0) member.pendingKeys.delete(delivery.message.key);
    else member.pendingKeys.set(delivery.message.key, left);
  }

  /** Sleeps before a redelivery; closing the subscription cuts the wait short. */
  function sleep(member: Member, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        member.wake = undefined;
        resolve();
      }
      member.wake = done;
    });
  }

  /** After the last handler call: unfinished messages go back to the group. */
  function finalize(member: Member): void {
    if (member.finalized) return;
    member.finalized = true;
    const { group } = member;
    group.members.splice(group.members.indexOf(member), 1);
    group.backlog.push(...member.queue.map((d) => d.message));
    group.backlog.sort((a, b) => a.offset - b.offset);
    member.queue = [];
    member.pendingKeys.clear();
    members.delete(member);
    member.resolveDone?.();
    dispatch(group);
  }

  function closeMember(member: Member): Promise<void> {
    if (!member.closing) {
      member.closing = true;
      member.done = new Promise((resolve) => (member.resolveDone = resolve));
      member.wake?.();
      if (!member.running) finalize(member);
    }
    // From inside its own handler, waiting for the handler would never end.
    return inHandler.getStore() === member ? Promise.resolve() : (member.done as Promise<void>);
  }

  return {
    kind: 'memory',

    async publish(topicName, key, value) {
      if (closed) throw new UnavailableError(`memory bus is closed; cannot publish to ${topicName}`, { retryable: false });
      if (!topicName) throw new Error('topic name must not be empty');
      let copy: unknown;
      try {
        copy = structuredClone(value);
      } catch (err) {
        throw new Error(`cannot publish to ${topicName}: value is not cloneable (${(err as Error).message})`, { cause: err });
      }
      const topic = topicOf(topicName);
      append(topic, { topic: topicName, key, value: copy, offset: topic.next });
      for (const group of topic.groups.values()) dispatch(group);
    },

    async subscribe(topicName, subscribeOptions, handler): Promise<Subscription> {
      if (closed) throw new UnavailableError(`memory bus is closed; cannot subscribe to ${topicName}`, { retryable: false });
      if (!topicName) throw new Error('topic name must not be empty');
      if (!subscribeOptions.group) throw new Error(`subscription to ${topicName} needs a group`);
      const topic = topicOf(topicName);
      let group = topic.groups.get(subscribeOptions.group);
      if (!group) {
        group = { topic, cursor: subscribeOptions.fromBeginning ? firstOffset(topic) : topic.next, backlog: [], members: [] };
        topic.groups.set(subscribeOptions.group, group);
      }
      const member: Member = {
        group,
        handler,
        queue: [],
        pendingKeys: new Map(),
        running: false,
        scheduled: false,
        closing: false,
        finalized: false,
      };
      group.members.push(member);
      members.add(member);
      dispatch(group);
      return { close: () => closeMember(member) };
    },

    async close() {
      closed = true;
      await Promise.all([...members].map(closeMember));
    },
  };
}

function warnGiveUp(error: unknown, message: BusMessage, attempts: number): void {
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`memory bus gave up on ${message.topic}@${message.offset} (key ${message.key}) after ${attempts} attempts: ${reason}`);
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A failing observer must not stop delivery.
  }
}
