import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAhead } from '../../src/adapters/clickhouse/read-ahead.ts';

// Found by the fault campaign: a worker killed during a streamed insert fails the insert's
// source (the IPC chunk feed) while the engine is still writing the previous chunk. The
// pull made ahead then rejected with nothing listening yet, and the unhandled rejection
// took the whole control plane (and chDB with it) down.
test('a source that fails while the consumer is busy fails the consumer, and only the consumer', async () => {
  const unhandled: unknown[] = [];
  const record = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', record);
  try {
    async function* source(): AsyncGenerator<string> {
      yield 'chunk 1';
      throw new Error('worker process 1234 is gone');
    }
    const it = readAhead(source());
    assert.deepEqual(await it.next(), { value: 'chunk 1', done: false });
    // The engine writes chunk 1 off the JS thread; meanwhile the pull ahead fails.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
    await assert.rejects(it.next(), /worker process 1234 is gone/);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  } finally {
    process.off('unhandledRejection', record);
  }
});

test('reads ahead by the depth and hands every item over in order', async () => {
  let pulled = 0;
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < 5; i++) {
      pulled += 1;
      yield i;
    }
  }
  const out: number[] = [];
  for await (const x of readAhead(source(), 2)) {
    // At most `depth` pulled beyond what the consumer holds.
    assert.ok(pulled - out.length <= 3, `pulled ${pulled}, consumed ${out.length}`);
    out.push(x);
  }
  assert.deepEqual(out, [0, 1, 2, 3, 4]);
});
