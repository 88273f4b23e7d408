import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { DataRecord, DataTopics, TopicReader } from '../../src/ports/data-topics.ts';

const unique = (kind: string) => `contract.data.${kind}.${randomUUID().slice(0, 8)}`;

/** Reads until `count` records arrived (or fails after `timeoutMs`). */
export async function readAll(reader: TopicReader, count: number, timeoutMs = 30_000): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    if (Date.now() > deadline) assert.fail(`read ${out.length} of ${count} records in ${timeoutMs} ms`);
    out.push(...(await reader.next(count - out.length, 200)));
  }
  return out;
}

/** What every DataTopics adapter must do; `open` gives a client of a shared (or fresh) log. */
export function dataTopicsContract(name: string, open: () => Promise<DataTopics>): void {
  describe(`DataTopics contract: ${name}`, () => {
    async function client(t: TestContext): Promise<DataTopics> {
      const topics = await open();
      t.after(() => topics.close());
      return topics;
    }

    it('keeps a key on one partition, in order, with offsets that count up from the start', async (t) => {
      const topics = await client(t);
      const topic = unique('order');
      const records = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 6}`, value: JSON.stringify({ i }) }));
      await topics.produce(topic, records);
      const reader = await topics.reader(topic, { from: [], otherwise: 'earliest', buffer: 100 });
      t.after(() => reader.close());
      const got = await readAll(reader, 60);
      const partitionOf = new Map<string, number>();
      for (const r of got) {
        assert.equal(partitionOf.get(r.key) ?? r.partition, r.partition, `key ${r.key} stays on one partition`);
        partitionOf.set(r.key, r.partition);
      }
      for (let k = 0; k < 6; k++) {
        const mine = got.filter((r) => r.key === `k${k}`).map((r) => JSON.parse(Buffer.from(r.value).toString()).i);
        assert.deepEqual(mine, Array.from({ length: 10 }, (_, j) => k + 6 * j), `order of k${k}`);
      }
      const ranges = await topics.partitions(topic);
      assert.equal(ranges.reduce((n, r) => n + r.end - r.start, 0), 60);
      for (const r of ranges) {
        const offsets = got.filter((g) => g.partition === r.partition).map((g) => g.offset);
        assert.deepEqual(offsets, Array.from({ length: r.end - r.start }, (_, j) => r.start + j), `offsets of partition ${r.partition}`);
      }
    });

    it('resumes exactly at the given positions and starts other partitions as told', async (t) => {
      const topics = await client(t);
      const topic = unique('resume');
      await topics.produce(topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, value: String(i) })));
      const ranges = await topics.partitions(topic);
      const used = ranges.filter((r) => r.end > r.start);
      const [first, ...rest] = used;
      assert.ok(first, 'at least one partition has records');
      const from = [{ partition: first.partition, offset: first.start + 2 }];
      const early = await topics.reader(topic, { from, otherwise: 'earliest', buffer: 100 });
      t.after(() => early.close());
      const got = await readAll(early, 30 - 2);
      assert.equal(got.filter((r) => r.partition === first.partition)[0]?.offset, first.start + 2);
      assert.equal(got.length, 28);
      const late = await topics.reader(topic, { from, otherwise: 'latest', buffer: 100 });
      t.after(() => late.close());
      const fromFirst = await readAll(late, first.end - first.start - 2);
      assert.ok(fromFirst.every((r) => r.partition === first.partition), 'the other partitions start at their end');
      assert.deepEqual(await late.next(10, 300), [], 'nothing else');
      if (rest.length > 0) {
        await topics.produce(topic, [{ key: 'k0', value: 'new' }, { key: 'k1', value: 'new' }, { key: 'k2', value: 'new' }]);
        const fresh = await readAll(late, 3);
        assert.deepEqual(fresh.map((r) => Buffer.from(r.value).toString()), ['new', 'new', 'new']);
      }
    });

    it('reads only the partitions asked for, each from its position: replicas of a stream split the topic between them', async (t) => {
      const topics = await client(t);
      const topic = unique('share');
      await topics.produce(topic, Array.from({ length: 90 }, (_, i) => ({ key: `k${i % 9}`, value: String(i) })));
      const ranges = (await topics.partitions(topic)).filter((r) => r.end > r.start);
      assert.ok(ranges.length >= 2, 'records on at least two partitions');
      const [mine, ...others] = ranges;
      const reader = await topics.reader(topic, { from: [{ partition: mine!.partition, offset: mine!.start + 1 }], otherwise: 'earliest', buffer: 100, partitions: [mine!.partition] });
      t.after(() => reader.close());
      const got = await readAll(reader, mine!.end - mine!.start - 1);
      assert.ok(got.every((r) => r.partition === mine!.partition), 'only its partition');
      assert.equal(got[0]?.offset, mine!.start + 1);
      assert.deepEqual(await reader.next(10, 500), [], `nothing of partitions ${others.map((o) => o.partition).join(', ')}`);
      const rest = await topics.reader(topic, { from: [], otherwise: 'earliest', buffer: 100, partitions: others.map((o) => o.partition) });
      t.after(() => rest.close());
      const theirs = await readAll(rest, others.reduce((n, o) => n + o.end - o.start, 0));
      assert.equal(theirs.length + got.length + 1, 90, 'the two readers together read the topic once');
      assert.ok(theirs.every((r) => r.partition !== mine!.partition));
      assert.deepEqual(await rest.next(10, 300), []);
    });

    it('waits no longer than asked, and returns as soon as a record arrives', async (t) => {
      const topics = await client(t);
      const topic = unique('wait');
      const reader = await topics.reader(topic, { from: [], otherwise: 'latest', buffer: 10 });
      t.after(() => reader.close());
      const started = Date.now();
      assert.deepEqual(await reader.next(10, 300), []);
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 5_000, `waited ${waited} ms for 300`);
      const pending = readAll(reader, 1, 20_000);
      await topics.produce(topic, [{ key: 'k', value: 'hello' }]);
      const [r] = await pending;
      assert.equal(Buffer.from(r!.value).toString(), 'hello');
      assert.equal(r!.key, 'k');
      assert.ok(r!.timestamp > started - 60_000 && r!.timestamp < Date.now() + 60_000, 'timestamp is the append time');
    });

    it('carries values as raw bytes, whatever they are', async (t) => {
      const topics = await client(t);
      const topic = unique('bytes');
      const bytes = new Uint8Array([0, 255, 254, 10, 9, 0x7b]);
      await topics.produce(topic, [{ key: 'k', value: bytes }, { key: 'k', value: '' }]);
      const reader = await topics.reader(topic, { from: [], otherwise: 'earliest', buffer: 10 });
      t.after(() => reader.close());
      const got = await readAll(reader, 2);
      assert.deepEqual([...got[0]!.value], [...bytes]);
      assert.equal(got[1]!.value.byteLength, 0);
    });

    it('takes a produce far larger than one broker request (5,000 records of 1 KB), and 120,000 records in one call', async (t) => {
      const topics = await client(t);
      const topic = unique('large');
      const kb = 'x'.repeat(1000);
      await topics.produce(topic, Array.from({ length: 5_000 }, (_, i) => ({ key: `k${i % 7}`, value: `${i}:${kb}` })));
      const ranges = await topics.partitions(topic);
      assert.equal(ranges.reduce((n, r) => n + r.end - r.start, 0), 5_000);
      // And more records in one call than a bridge request carries.
      await topics.produce(topic, Array.from({ length: 120_000 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) })));
      assert.equal((await topics.partitions(topic)).reduce((n, r) => n + r.end - r.start, 0), 125_000);
    });

    it('refuses an empty topic name and use after close', async () => {
      const topics = await open();
      await assert.rejects(topics.produce('', [{ key: 'k', value: 'v' }]), { code: 'validation' });
      await topics.close();
      await assert.rejects(topics.produce(unique('closed'), [{ key: 'k', value: 'v' }]), { code: 'unavailable' });
    });
  });
}
