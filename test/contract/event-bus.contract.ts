import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { BusMessage, EventBus } from '../../src/ports/event-bus.ts';

/** Generous, because a real broker rebalances and batches; polling ends as soon as it can. */
const WAIT_MS = 30_000;

/** Polls until `check` is true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Topic and group names no other test (or earlier run on a shared broker) uses. */
function unique(kind: string): string {
  return `contract.${kind}.${randomUUID().slice(0, 12)}`;
}

interface Received {
  readonly key: string;
  readonly value: unknown;
  readonly offset: string;
}

function collect(into: Received[]): (m: BusMessage) => void {
  return (m) => {
    into.push({ key: m.key, value: m.value, offset: m.offset });
  };
}

const values = (list: readonly Received[]) => list.map((r) => r.value);

/**
 * What every EventBus adapter must do. `open` returns a bus connected to a shared (or
 * fresh) broker; each test uses its own topics and groups and closes its bus.
 */
export function eventBusContract(name: string, open: () => Promise<EventBus>): void {
  async function fresh(t: TestContext): Promise<EventBus> {
    const bus = await open();
    t.after(() => bus.close());
    return bus;
  }

  describe(`EventBus contract: ${name}`, () => {
    it('delivers topic, key, value and a decimal offset', async (t) => {
      const bus = await fresh(t);
      const topic = unique('basic');
      const got: BusMessage[] = [];
      await bus.subscribe(topic, { group: unique('g') }, (m) => {
        got.push(m);
      });
      await bus.publish(topic, 'run-1', { type: 'ping', n: 1, nested: { list: [1, 2] } });
      await bus.publish(topic, 'run-1', { type: 'ping', n: 2 });
      await waitFor('two messages', () => got.length >= 2);
      assert.equal(got[0]?.topic, topic);
      assert.equal(got[0]?.key, 'run-1');
      assert.deepEqual(got[0]?.value, { type: 'ping', n: 1, nested: { list: [1, 2] } });
      for (const m of got) assert.match(m.offset, /^\d+$/);
      assert.ok(BigInt(got[0]?.offset ?? '0') < BigInt(got[1]?.offset ?? '0'), 'offsets grow');
    });

    it('never calls a handler inside publish', async (t) => {
      const bus = await fresh(t);
      const topic = unique('async');
      let publishing = false;
      let calledDuringPublish = false;
      let calls = 0;
      await bus.subscribe(topic, { group: unique('g') }, () => {
        calls += 1;
        if (publishing) calledDuringPublish = true;
      });
      publishing = true;
      const done = bus.publish(topic, 'k', 1);
      publishing = false;
      await done;
      await waitFor('delivery', () => calls === 1);
      assert.equal(calledDuringPublish, false);
    });

    it('gives publisher and consumers their own copies of a value', async (t) => {
      const bus = await fresh(t);
      const topic = unique('copies');
      const a: Received[] = [];
      const b: Received[] = [];
      await bus.subscribe(topic, { group: unique('ga') }, (m) => {
        (m.value as { list: number[] }).list.push(99);
        a.push(m);
      });
      await bus.subscribe(topic, { group: unique('gb') }, collect(b));
      const value = { list: [1] };
      await bus.publish(topic, 'k', value);
      value.list.push(2);
      await waitFor('both groups', () => a.length === 1 && b.length === 1);
      assert.deepEqual(b[0]?.value, { list: [1] });
      assert.deepEqual(value, { list: [1, 2] });
    });

    it('keeps messages with the same key in order', async (t) => {
      const bus = await fresh(t);
      const topic = unique('order');
      const got: Received[] = [];
      await bus.subscribe(topic, { group: unique('g') }, collect(got));
      const keys = ['run-a', 'run-b', 'run-c'];
      for (let i = 0; i < 60; i++) {
        const key = keys[i % keys.length] as string;
        await bus.publish(topic, key, { key, seq: Math.floor(i / keys.length) });
      }
      await waitFor('60 messages', () => got.length >= 60);
      for (const key of keys) {
        const seqs = got.filter((m) => m.key === key).map((m) => (m.value as { seq: number }).seq);
        assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i), `order of ${key}`);
      }
    });

    it('runs one handler call at a time per subscription', async (t) => {
      const bus = await fresh(t);
      const topic = unique('serial');
      let active = 0;
      let maxActive = 0;
      let done = 0;
      await bus.subscribe(topic, { group: unique('g') }, async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active -= 1;
        done += 1;
      });
      for (let i = 0; i < 10; i++) await bus.publish(topic, `k${i}`, i);
      await waitFor('10 handled', () => done === 10);
      assert.equal(maxActive, 1);
    });

    it('shares messages within a group: each goes to one member', async (t) => {
      const bus = await fresh(t);
      const topic = unique('share');
      const group = unique('g');
      const a: Received[] = [];
      const b: Received[] = [];
      await bus.subscribe(topic, { group }, collect(a));
      await bus.subscribe(topic, { group }, collect(b));
      for (let i = 0; i < 40; i++) await bus.publish(topic, `key-${i % 20}`, i);
      const distinct = () => new Set([...values(a), ...values(b)]).size;
      await waitFor('all 40 in the group', () => distinct() === 40);
      assert.equal(a.length + b.length, 40, 'no message went to both members');
    });

    it('fans out to every group', async (t) => {
      const bus = await fresh(t);
      const topic = unique('fanout');
      const a: Received[] = [];
      const b: Received[] = [];
      await bus.subscribe(topic, { group: unique('ga') }, collect(a));
      await bus.subscribe(topic, { group: unique('gb') }, collect(b));
      for (let i = 0; i < 10; i++) await bus.publish(topic, 'k', i);
      await waitFor('both groups got 10', () => a.length >= 10 && b.length >= 10);
      assert.deepEqual(values(a), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(values(b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('replays retained messages with fromBeginning, and only new ones without', async (t) => {
      const bus = await fresh(t);
      const topic = unique('replay');
      for (const v of ['old-1', 'old-2', 'old-3']) await bus.publish(topic, 'k', v);
      const replayed: Received[] = [];
      const latest: Received[] = [];
      await bus.subscribe(topic, { group: unique('from-start'), fromBeginning: true }, collect(replayed));
      await bus.subscribe(topic, { group: unique('latest') }, collect(latest));
      await bus.publish(topic, 'k', 'new');
      await waitFor('replay and new message', () => replayed.length >= 4 && latest.length >= 1);
      assert.deepEqual(values(replayed), ['old-1', 'old-2', 'old-3', 'new']);
      assert.deepEqual(values(latest), ['new']);
    });

    it('redelivers a message whose handler threw, keeping key order', async (t) => {
      const bus = await fresh(t);
      const topic = unique('retry');
      const attempts: unknown[] = [];
      const handled: unknown[] = [];
      let failedOnce = false;
      await bus.subscribe(topic, { group: unique('g') }, async (m) => {
        attempts.push(m.value);
        if (m.value === 'b' && !failedOnce) {
          failedOnce = true;
          throw new Error('transient failure in handler');
        }
        handled.push(m.value);
      });
      for (const v of ['a', 'b', 'c']) await bus.publish(topic, 'same-key', v);
      await waitFor('a, b and c handled', () => handled.length >= 3);
      assert.deepEqual(handled, ['a', 'b', 'c']);
      assert.deepEqual(attempts.slice(0, 3), ['a', 'b', 'b']);
    });

    it('keeps working for others after a handler throws', async (t) => {
      const bus = await fresh(t);
      const topic = unique('isolation');
      const healthy: Received[] = [];
      let throws = 0;
      await bus.subscribe(topic, { group: unique('broken') }, () => {
        throws += 1;
        throw new Error('always broken');
      });
      await bus.subscribe(topic, { group: unique('healthy') }, collect(healthy));
      for (let i = 0; i < 5; i++) await bus.publish(topic, `k${i}`, i);
      await waitFor('healthy group got all', () => healthy.length >= 5);
      assert.ok(throws >= 1);
      assert.deepEqual(values(healthy).sort(), [0, 1, 2, 3, 4]);
    });

    it('stops delivering to a closed subscription', async (t) => {
      const bus = await fresh(t);
      const topic = unique('close');
      const closing: Received[] = [];
      const witness: Received[] = [];
      const sub = await bus.subscribe(topic, { group: unique('closing') }, collect(closing));
      await bus.subscribe(topic, { group: unique('witness') }, collect(witness));
      await bus.publish(topic, 'k', 'before');
      await waitFor('first message', () => closing.length === 1);
      await sub.close();
      await bus.publish(topic, 'k', 'after-1');
      await bus.publish(topic, 'k', 'after-2');
      // The witness group sees both, so delivery has happened where it was going to.
      await waitFor('witness got all', () => witness.length === 3);
      assert.deepEqual(values(closing), ['before']);
    });

    it('lets a group continue where it stopped', async (t) => {
      const bus = await fresh(t);
      const topic = unique('resume');
      const group = unique('g');
      const first: Received[] = [];
      const sub = await bus.subscribe(topic, { group }, collect(first));
      await bus.publish(topic, 'k', 1);
      await waitFor('first message', () => first.length === 1);
      await sub.close();
      await bus.publish(topic, 'k', 2);
      await bus.publish(topic, 'k', 3);
      const second: Received[] = [];
      await bus.subscribe(topic, { group }, collect(second));
      await waitFor('messages published while away', () => second.length >= 2);
      assert.deepEqual(values(second), [2, 3]);
    });

    it('rejects publish after close', async () => {
      const bus = await open();
      const topic = unique('closed');
      await bus.subscribe(topic, { group: unique('g') }, () => undefined);
      await bus.close();
      await assert.rejects(bus.publish(topic, 'k', 1), /closed/);
    });
  });
}
