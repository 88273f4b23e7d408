import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import { objectStoreContract } from './object-store.contract.ts';

const base = await mkdtemp(join(tmpdir(), 'sluice-object-store-'));
after(() => rm(base, { recursive: true, force: true }));
let n = 0;
const newRoot = () => join(base, `store-${n++}`);

objectStoreContract('local-fs', async () => createLocalObjectStore({ root: newRoot() }));

describe('local-fs object store', () => {
  it('keeps key a/b.csv as the file <root>/a/b.csv', async () => {
    const root = newRoot();
    const store = createLocalObjectStore({ root });
    await store.put('a/b.csv', 'x,y\n');
    assert.equal(await readFile(join(root, 'a', 'b.csv'), 'utf8'), 'x,y\n');
  });

  it('streams a Readable body to disk while it is still being produced', async () => {
    const root = newRoot();
    const store = createLocalObjectStore({ root });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sawPartialFile = false;
    async function* body() {
      for (let i = 0; i < 16; i++) {
        if (i === 12) {
          // An adapter that buffers the whole body would not have written anything yet.
          const tmp = join(root, '.sluice-tmp');
          const partial = existsSync(tmp) ? await readdir(tmp) : [];
          for (const name of partial) if ((await stat(join(tmp, name))).size > 0) sawPartialFile = true;
        }
        yield chunk;
      }
    }
    const info = await store.put('big.bin', Readable.from(body()));
    assert.equal(info.size, 16 * chunk.length);
    assert.ok(sawPartialFile, 'bytes reached disk before the body ended');
  });

  it('leaves no temp files behind and hides them from list', async () => {
    const root = newRoot();
    const store = createLocalObjectStore({ root });
    await store.put('x', 'x');
    let listedMidWrite: string[] = [];
    await store.put('w', Readable.from((async function* () {
      yield Buffer.alloc(256 * 1024, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      listedMidWrite = (await store.list('')).map((o) => o.key);
      yield 'end';
    })()));
    assert.deepEqual(listedMidWrite, ['x']);
    await store.delete('w');
    await assert.rejects(store.put('y', Readable.from((async function* () {
      yield 'partial';
      throw new Error('boom');
    })())));
    assert.deepEqual(await readdir(join(root, '.sluice-tmp')), []);
    assert.deepEqual((await store.list('')).map((o) => o.key), ['x']);
    await assert.rejects(store.put('.sluice-tmp/z', 'z'), /reserved/);
  });

  it('lists nothing and finds nothing before the root exists', async () => {
    const store = createLocalObjectStore({ root: newRoot() });
    assert.deepEqual(await store.list(''), []);
    assert.equal(await store.head('a'), undefined);
  });

  it('cleans up empty folders on delete', async () => {
    const root = newRoot();
    const store = createLocalObjectStore({ root });
    await store.put('p/q/r.txt', 'r');
    await store.delete('p/q/r.txt');
    assert.equal(existsSync(join(root, 'p')), false);
    assert.equal(existsSync(root), true);
  });
});
