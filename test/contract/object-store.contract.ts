import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { ObjectStore } from '../../src/ports/object-store.ts';

/**
 * What every ObjectStore adapter must do. `open` returns an empty store of its own (a
 * temp directory, a fresh bucket prefix); the suite closes it. Nothing here may assume
 * the objects are files.
 */
export function objectStoreContract(name: string, open: () => Promise<ObjectStore>): void {
  async function fresh(t: TestContext): Promise<ObjectStore> {
    const store = await open();
    t.after(() => store.close());
    return store;
  }

  describe(`ObjectStore contract: ${name}`, () => {
    it('round-trips a Buffer, a string and a Readable', async (t) => {
      const store = await fresh(t);
      const bytes = randomBytes(70_000);
      const fromBuffer = await store.put('raw/bytes.bin', bytes);
      assert.equal(fromBuffer.key, 'raw/bytes.bin');
      assert.equal(fromBuffer.size, bytes.length);
      assert.deepEqual(await store.get('raw/bytes.bin'), bytes);

      const text = 'Stock code, Ünit price €\n';
      const fromString = await store.put('raw/text.csv', text);
      assert.equal(fromString.size, Buffer.byteLength(text));
      assert.equal((await store.get('raw/text.csv')).toString('utf8'), text);

      const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i));
      const fromStream = await store.put('raw/stream.bin', Readable.from(chunks));
      assert.equal(fromStream.size, 40 * 64 * 1024);
      assert.deepEqual(await store.get('raw/stream.bin'), Buffer.concat(chunks));
    });

    it('stores an empty object', async (t) => {
      const store = await fresh(t);
      assert.equal((await store.put('empty', '')).size, 0);
      assert.equal((await store.get('empty')).length, 0);
      assert.equal((await store.head('empty'))?.size, 0);
    });

    it('streams an object back', async (t) => {
      const store = await fresh(t);
      const bytes = randomBytes(3 * 1024 * 1024);
      await store.put('models/m.bin', bytes);
      const stream = await store.getStream('models/m.bin');
      assert.ok(stream instanceof Readable);
      assert.deepEqual(await buffer(stream), bytes);
    });

    it('overwrites a key', async (t) => {
      const store = await fresh(t);
      await store.put('a.txt', 'first, longer value');
      const info = await store.put('a.txt', 'second');
      assert.equal(info.size, 6);
      assert.equal((await store.get('a.txt')).toString(), 'second');
    });

    it('describes objects with head, and returns undefined for missing ones', async (t) => {
      const store = await fresh(t);
      const before = Date.now();
      const put = await store.put('dir/file.json', '{"a":1}');
      const head = await store.head('dir/file.json');
      assert.ok(head);
      assert.equal(head.key, 'dir/file.json');
      assert.equal(head.size, 7);
      assert.deepEqual(head, put);
      const modified = Date.parse(head.modifiedAt);
      assert.ok(Number.isFinite(modified), `modifiedAt is a date: ${head.modifiedAt}`);
      // Generous: clocks of a remote store may differ a little from ours.
      assert.ok(Math.abs(modified - before) < 5 * 60_000, `modifiedAt ${head.modifiedAt} is about now`);
      assert.equal(await store.head('dir/missing.json'), undefined);
      assert.equal(await store.head('dir'), undefined, 'a "directory" is not an object');
    });

    it('throws NotFoundError naming the key for a missing object', async (t) => {
      const store = await fresh(t);
      const isNotFound = (err: Error & { code?: string }) => {
        assert.equal(err.code, 'not_found');
        assert.ok(err.message.includes('nope/missing.csv'), err.message);
        return true;
      };
      await assert.rejects(store.get('nope/missing.csv'), isNotFound);
      await assert.rejects(store.getStream('nope/missing.csv'), isNotFound);
    });

    it('lists recursively under a prefix, sorted by key', async (t) => {
      const store = await fresh(t);
      const keys = ['raw/2024-02/b.csv', 'raw/2024-01/z.csv', 'raw/2024-01/a.csv', 'raw/2024.txt', 'marts/x.parquet', 'raw/deep/er/still.csv'];
      for (const key of keys) await store.put(key, key);
      const listed = await store.list('raw/');
      assert.deepEqual(
        listed.map((o) => o.key),
        ['raw/2024-01/a.csv', 'raw/2024-01/z.csv', 'raw/2024-02/b.csv', 'raw/2024.txt', 'raw/deep/er/still.csv'],
      );
      for (const info of listed) assert.equal(info.size, Buffer.byteLength(info.key));
      // A prefix is a string prefix of keys, not only a folder.
      assert.deepEqual((await store.list('raw/2024-0')).map((o) => o.key), ['raw/2024-01/a.csv', 'raw/2024-01/z.csv', 'raw/2024-02/b.csv']);
      assert.deepEqual((await store.list('raw/2024')).map((o) => o.key), ['raw/2024-01/a.csv', 'raw/2024-01/z.csv', 'raw/2024-02/b.csv', 'raw/2024.txt']);
      assert.deepEqual((await store.list('')).map((o) => o.key), [...keys].sort());
      assert.deepEqual(await store.list('nothing/'), []);
    });

    it('deletes objects; deleting a missing key is fine', async (t) => {
      const store = await fresh(t);
      await store.put('a/b/c.txt', 'c');
      await store.put('a/d.txt', 'd');
      await store.delete('a/b/c.txt');
      assert.equal(await store.head('a/b/c.txt'), undefined);
      assert.deepEqual((await store.list('a/')).map((o) => o.key), ['a/d.txt']);
      await store.delete('a/b/c.txt');
      await store.delete('never/was.txt');
      // What was a "folder" can become an object.
      await store.put('a/b', 'now a file');
      assert.equal((await store.get('a/b')).toString(), 'now a file');
    });

    it('keeps keys with spaces and non-ASCII characters', async (t) => {
      const store = await fresh(t);
      const key = 'raw/Online Retail II/Ünïcode €.csv';
      await store.put(key, 'x');
      assert.equal((await store.get(key)).toString(), 'x');
      assert.deepEqual((await store.list('raw/Online Retail II/')).map((o) => o.key), [key]);
    });

    for (const bad of ['', '/abs/key', 'a/../b', '../escape', 'a//b', 'a/', 'a/./b']) {
      it(`refuses the key ${JSON.stringify(bad)}, naming it`, async (t) => {
        const store = await fresh(t);
        const names = (err: Error) => {
          assert.ok(bad === '' || err.message.includes(bad), err.message);
          return true;
        };
        await assert.rejects(store.put(bad, 'x'), names);
        await assert.rejects(store.get(bad), names);
        await assert.rejects(store.head(bad), names);
        await assert.rejects(store.delete(bad), names);
      });
    }

    it('does not leave a partial object when the body stream fails', async (t) => {
      const store = await fresh(t);
      await store.put('out/result.csv', 'old complete content');
      async function* failing() {
        yield Buffer.alloc(128 * 1024, 1);
        throw new Error('source broke');
      }
      await assert.rejects(store.put('out/result.csv', Readable.from(failing())), /source broke/);
      await assert.rejects(store.put('out/new.csv', Readable.from(failing())), /source broke/);
      assert.equal((await store.get('out/result.csv')).toString(), 'old complete content');
      assert.equal(await store.head('out/new.csv'), undefined);
      assert.deepEqual((await store.list('out/')).map((o) => o.key), ['out/result.csv']);
    });

    it('never shows a mix of two concurrent writes', async (t) => {
      const store = await fresh(t);
      const a = Buffer.alloc(2 * 1024 * 1024, 'a');
      const b = Buffer.alloc(2 * 1024 * 1024, 'b');
      const slow = (fill: Buffer) => Readable.from((function* () {
        for (let i = 0; i < fill.length; i += 64 * 1024) yield fill.subarray(i, i + 64 * 1024);
      })());
      await Promise.all([store.put('race', slow(a)), store.put('race', slow(b))]);
      const got = await store.get('race');
      assert.ok(got.equals(a) || got.equals(b), 'one whole write wins');
    });
  });
}
