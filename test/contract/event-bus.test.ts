import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import type { BusMessage, Subscription } from '../../src/ports/event-bus.ts';
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
