import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Admin, ConfigResourceTypes, Producer } from '@platformatic/kafka';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import type { KafkaBusOptions } from '../../src/adapters/kafka/kafka-bus.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import type { BusMessage, Subscription } from '../../src/ports/event-bus.ts';
import { kafkaForTests } from '../helpers/kafka-for-tests.ts';
import { eventBusContract, waitFor } from './event-bus.contract.ts';

// One bus per test: the memory bus is its own broker.
eventBusContract('memory', async () => createMemoryBus({ retryDelayMs: 10 }));

describe('memory bus', () => {
  it('keeps only the newest `retention` messages per topic', async (t) => {
    const bus = createMemoryBus({ retention: 3 });
    t.after(() => bus.close());
    for (let i = 0; i < 5; i++) await bus.publish('t', 'k', i);
    const got: BusMessage[] = [];
    await bus.subscribe('t', { group: 'g', fromBeginning: true }, (m) => {
      got.push(m);
    });
    await waitFor('3 retained', () => got.length === 3);
    assert.deepEqual(got.map((m) => [m.offset, m.value]), [['2', 2], ['3', 3], ['4', 4]]);
  });

  it('spreads a group over its members by key', async (t) => {
    const bus = createMemoryBus();
    t.after(() => bus.close());
    const byMember: string[][] = [[], [], []];
    for (const list of byMember) await bus.subscribe('t', { group: 'g' }, (m) => void list.push(m.key));
    for (let i = 0; i < 90; i++) await bus.publish('t', `run-${i % 30}`, i);
    await waitFor('90 delivered', () => byMember.flat().length === 90);
    for (const list of byMember) assert.ok(list.length > 0, 'every member got work');
    const owners = new Map<string, number>();
    byMember.forEach((list, member) => list.forEach((key) => owners.set(key, (owners.get(key) ?? member) === member ? member : -1)));
    assert.ok(![...owners.values()].includes(-1), 'a key stays with one member');
  });

  it('hands a leaving member\'s unfinished messages to the rest of the group', async (t) => {
    const bus = createMemoryBus();
    t.after(() => bus.close());
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: unknown[] = [];
    const other: unknown[] = [];
    const slowSub = await bus.subscribe('t', { group: 'g' }, async (m) => {
      slow.push(m.value);
      await gate;
    });
    for (let i = 0; i < 5; i++) await bus.publish('t', 'one-key', i);
    await waitFor('slow member busy', () => slow.length === 1);
    await bus.subscribe('t', { group: 'g' }, (m) => void other.push(m.value));
    const closed = slowSub.close();
    release();
    await closed;
    await waitFor('the rest handed over', () => other.length === 4);
    assert.deepEqual(other, [1, 2, 3, 4]);
    assert.deepEqual(slow, [0]);
  });

  it('gives up after maxAttempts, reports it and moves on', async (t) => {
    const gaveUp: [string, unknown, number][] = [];
    const bus = createMemoryBus({ maxAttempts: 3, retryDelayMs: 1, onGiveUp: (err, m, n) => void gaveUp.push([(err as Error).message, m.value, n]) });
    t.after(() => bus.close());
    const handled: unknown[] = [];
    let calls = 0;
    await bus.subscribe('t', { group: 'g' }, (m) => {
      calls += 1;
      if (m.value === 'poison') throw new Error('cannot parse');
      handled.push(m.value);
    });
    for (const v of ['poison', 'fine']) await bus.publish('t', 'k', v);
    await waitFor('next message handled', () => handled.length === 1);
    assert.deepEqual(gaveUp, [['cannot parse', 'poison', 3]]);
    assert.equal(calls, 4);
    assert.deepEqual(handled, ['fine']);
  });

  it('lets a handler close its own subscription', async (t) => {
    const bus = createMemoryBus();
    t.after(() => bus.close());
    const got: unknown[] = [];
    let closedInside = false;
    const sub: Subscription = await bus.subscribe('t', { group: 'g' }, async (m) => {
      got.push(m.value);
      await sub.close();
      closedInside = true;
    });
    await bus.publish('t', 'k', 1);
    await bus.publish('t', 'k', 2);
    await waitFor('close inside handler resolved', () => closedInside);
    const witness: unknown[] = [];
    await bus.subscribe('t', { group: 'g' }, (m) => void witness.push(m.value));
    await waitFor('the rest handed to the next member', () => witness.length === 1);
    assert.deepEqual(got, [1]);
    assert.deepEqual(witness, [2]);
  });

  it('refuses values that cannot be cloned', async (t) => {
    const bus = createMemoryBus();
    t.after(() => bus.close());
    await assert.rejects(bus.publish('t', 'k', { fn: () => 1 }), /cannot publish to t/);
  });

  it('stops waiting for a redelivery when closed', async () => {
    const bus = createMemoryBus({ retryDelayMs: 60_000 });
    let calls = 0;
    await bus.subscribe('t', { group: 'g' }, () => {
      calls += 1;
      throw new Error('fails');
    });
    await bus.publish('t', 'k', 1);
    await waitFor('first attempt', () => calls === 1);
    const started = Date.now();
    await bus.close();
    assert.ok(Date.now() - started < 1_000, 'close did not wait for the retry delay');
    assert.equal(calls, 1);
  });
});

// Kafka: one broker per machine (scripts/kafka.sh), shared by every test run; this run's
// topics and groups carry their own prefix and are deleted afterwards.
const kafka = await kafkaForTests('EventBus contract: Kafka');
if (kafka) {
  const { brokers, topicPrefix } = kafka;
  const openKafka = (extra: Partial<KafkaBusOptions> = {}) =>
    createKafkaBus({ bootstrap: brokers, clientId: 'contract', topicPrefix, retryDelayMs: 10, ...extra });
  eventBusContract('Kafka', () => openKafka());

  describe('Kafka bus', () => {
    const name = (kind: string) => `kafka.${kind}.${randomUUID().slice(0, 8)}`;

    it('creates configured topics with their partitions and retention, others with one partition', async (t) => {
      const configured = name('configured');
      const other = name('other');
      const bus = await openKafka({ topics: [{ name: configured, partitions: 3, retentionMs: 3_600_000 }] });
      t.after(() => bus.close());
      await bus.publish(other, 'k', 1);
      const admin = new Admin({ clientId: 'contract-check', bootstrapBrokers: brokers });
      t.after(() => admin.close());
      const metadata = await admin.metadata({ topics: [topicPrefix + configured, topicPrefix + other] });
      assert.equal(metadata.topics.get(topicPrefix + configured)?.partitionsCount, 3);
      assert.equal(metadata.topics.get(topicPrefix + other)?.partitionsCount, 1);
      const [described] = await admin.describeConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topicPrefix + configured, configurationKeys: ['retention.ms'] }],
      });
      assert.equal(described?.configs.find((c) => c.name === 'retention.ms')?.value, '3600000');
    });

    it('spreads a group over partitions by key, each message to one member, in key order', async (t) => {
      const topic = name('spread');
      const bus = await openKafka({ topics: [{ name: topic, partitions: 3 }] });
      t.after(() => bus.close());
      const byMember: BusMessage[][] = [[], []];
      for (const list of byMember) await bus.subscribe(topic, { group: 'g' }, (m) => void list.push(m));
      for (let i = 0; i < 90; i++) await bus.publish(topic, `run-${i % 30}`, { seq: Math.floor(i / 30) });
      await waitFor('90 delivered', () => byMember.flat().length >= 90);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(byMember.flat().length, 90, 'no duplicates');
      for (const list of byMember) assert.ok(list.length > 0, 'every member got work');
      const owners = new Map<string, number>();
      byMember.forEach((list, member) => list.forEach((m) => owners.set(m.key, (owners.get(m.key) ?? member) === member ? member : -1)));
      assert.ok(![...owners.values()].includes(-1), 'a key stays with one member');
      for (const key of owners.keys()) {
        const seqs = byMember.flat().filter((m) => m.key === key).map((m) => (m.value as { seq: number }).seq);
        assert.deepEqual(seqs, [0, 1, 2], `order of ${key}`);
      }
    });

    it('gives up after maxAttempts, reports it, commits and moves on', async (t) => {
      const gaveUp: [string, unknown, number][] = [];
      const bus = await openKafka({ maxAttempts: 3, retryDelayMs: 1, onGiveUp: (err, m, n) => void gaveUp.push([(err as Error).message, m.value, n]) });
      t.after(() => bus.close());
      const topic = name('give-up');
      const handled: unknown[] = [];
      let calls = 0;
      const sub = await bus.subscribe(topic, { group: 'g' }, (m) => {
        calls += 1;
        if (m.value === 'poison') throw new Error('cannot parse');
        handled.push(m.value);
      });
      for (const v of ['poison', 'fine']) await bus.publish(topic, 'k', v);
      await waitFor('next message handled', () => handled.length === 1);
      assert.deepEqual(gaveUp, [['cannot parse', 'poison', 3]]);
      assert.equal(calls, 4);
      await sub.close();
      const again: unknown[] = [];
      await bus.subscribe(topic, { group: 'g', fromBeginning: true }, (m) => void again.push(m.value));
      await bus.publish(topic, 'k', 'later');
      await waitFor('the group continues after the given-up message', () => again.length >= 1);
      assert.deepEqual(again, ['later']);
    });

    it('gives up on a value that is not JSON without calling the handler', async (t) => {
      const gaveUp: unknown[] = [];
      const bus = await openKafka({ onGiveUp: (_err, m) => void gaveUp.push(m.value) });
      t.after(() => bus.close());
      const topic = name('not-json');
      const handled: unknown[] = [];
      await bus.subscribe(topic, { group: 'g' }, (m) => void handled.push(m.value));
      const producer = new Producer({ clientId: 'contract-raw', bootstrapBrokers: brokers });
      t.after(() => producer.close());
      await producer.send({ messages: [{ topic: topicPrefix + topic, key: Buffer.from('k'), value: Buffer.from('not json {') }] });
      await bus.publish(topic, 'k', 'fine');
      await waitFor('the next message handled', () => handled.length === 1);
      assert.deepEqual(gaveUp, ['not json {']);
      assert.deepEqual(handled, ['fine']);
    });

    it('finishes the running handler on close and hands the rest to the next member', async (t) => {
      const bus = await openKafka();
      t.after(() => bus.close());
      const topic = name('handover');
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow: unknown[] = [];
      const slowSub = await bus.subscribe(topic, { group: 'g' }, async (m) => {
        slow.push(m.value);
        await gate;
      });
      for (let i = 0; i < 5; i++) await bus.publish(topic, 'one-key', i);
      await waitFor('slow member busy', () => slow.length === 1);
      const closed = slowSub.close();
      release();
      await closed;
      const other: unknown[] = [];
      await bus.subscribe(topic, { group: 'g' }, (m) => void other.push(m.value));
      await waitFor('the rest handed over', () => other.length >= 4);
      assert.deepEqual(other, [1, 2, 3, 4]);
      assert.deepEqual(slow, [0]);
    });

    it('lets a handler close its own subscription', async (t) => {
      const bus = await openKafka();
      t.after(() => bus.close());
      const topic = name('self-close');
      const got: unknown[] = [];
      let closedInside = false;
      const sub: Subscription = await bus.subscribe(topic, { group: 'g' }, async (m) => {
        got.push(m.value);
        await sub.close();
        closedInside = true;
      });
      await bus.publish(topic, 'k', 1);
      await bus.publish(topic, 'k', 2);
      await waitFor('close inside handler resolved', () => closedInside);
      const witness: unknown[] = [];
      await bus.subscribe(topic, { group: 'g' }, (m) => void witness.push(m.value));
      await waitFor('the rest handed to the next member', () => witness.length >= 1);
      assert.deepEqual(got, [1]);
      assert.deepEqual(witness, [2]);
    });

    it('stops waiting for a redelivery when closed', async () => {
      const bus = await openKafka({ retryDelayMs: 60_000 });
      const topic = name('close-retry');
      let calls = 0;
      await bus.subscribe(topic, { group: 'g' }, () => {
        calls += 1;
        throw new Error('fails');
      });
      await bus.publish(topic, 'k', 1);
      await waitFor('first attempt', () => calls === 1);
      const started = Date.now();
      await bus.close();
      assert.ok(Date.now() - started < 5_000, 'close did not wait for the retry delay');
      assert.equal(calls, 1);
    });

    it('refuses values that are not JSON', async (t) => {
      const bus = await openKafka();
      t.after(() => bus.close());
      await assert.rejects(bus.publish(name('bigint'), 'k', { n: 1n }), { code: 'validation' });
    });

    it('says when it cannot reach the broker to create its topics', async () => {
      await assert.rejects(
        createKafkaBus({ bootstrap: ['127.0.0.1:1'], clientId: 'contract', topics: [{ name: 't', partitions: 1 }] }),
        { code: 'unavailable', retryable: true },
      );
    });
  });
}
