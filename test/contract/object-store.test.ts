import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import { createS3ObjectStore } from '../../src/adapters/s3/s3-object-store.ts';
import { dropBucket } from '../helpers/cleanup.ts';
import { MINIO_CREDENTIALS, service } from '../helpers/services.ts';
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
    })())), /boom/);
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

// --- S3 on a real MinIO (scripts/minio.sh) ---------------------------------------------

const S3_TITLE = 'ObjectStore contract: s3 (MinIO)';

// Registered at load time like the contract itself, so MinIO starts once per file; when
// it cannot, a test says why (skipped off CI when MinIO is not built, failed on CI).
let minioUrl: string | undefined;
let minioFailure: unknown;
try {
  minioUrl = await service('minio');
} catch (err) {
  minioFailure = err;
}
if (minioFailure !== undefined) {
  test(S3_TITLE, () => {
    throw minioFailure;
  });
} else if (minioUrl === undefined) {
  test(S3_TITLE, (t) => t.skip('MinIO is not built here (run scripts/minio.sh install)'));
} else {
  registerMinio(minioUrl);
}

function registerMinio(endpoint: string): void {
  // One bucket for this run, one prefix per store; the bucket goes away after the file.
  const bucket = `sluice-test-${randomUUID().slice(0, 8)}`;
  const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: MINIO_CREDENTIALS });
  const extraBuckets: string[] = [];
  before(() => admin.send(new CreateBucketCommand({ Bucket: bucket })));
  after(async () => {
    for (const b of [bucket, ...extraBuckets]) await dropBucket(admin, b);
    admin.destroy();
  });
  let s = 0;
  const newPrefix = () => `store-${s++}/`;
  const open = (prefix = newPrefix()) => createS3ObjectStore({ endpoint, bucket, prefix, credentials: MINIO_CREDENTIALS });

  objectStoreContract('s3 (MinIO)', async () => open());

  describe('s3 object store (MinIO)', () => {
    it('keeps key a/b.csv as the S3 object <prefix>a/b.csv and sees only its prefix', async (t) => {
      const prefix = newPrefix();
      const store = open(prefix.slice(0, -1)); // `store-n` and `store-n/` mean the same folder
      const other = open();
      const whole = createS3ObjectStore({ endpoint, bucket, credentials: MINIO_CREDENTIALS });
      t.after(() => Promise.all([store.close(), other.close(), whole.close()]));
      await store.put('a/b.csv', 'x,y\n');
      const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}a/b.csv` }));
      assert.equal(await got.Body?.transformToString(), 'x,y\n');
      assert.deepEqual(await other.list(''), []);
      assert.equal(await other.head('a/b.csv'), undefined);
      assert.deepEqual((await whole.list(prefix)).map((o) => o.key), [`${prefix}a/b.csv`]);
      assert.throws(() => open('../up'), /invalid object key/);
    });

    it('pages through listings, and leaves an injected client open', async (t) => {
      const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: MINIO_CREDENTIALS });
      t.after(() => client.destroy());
      let pages = 0;
      // Two keys a page, so five keys need three ListObjectsV2 calls.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ListObjectsV2Command') {
            pages++;
            (args.input as { MaxKeys?: number }).MaxKeys = 2;
          }
          return next(args);
        },
        { step: 'initialize' },
      );
      const store = createS3ObjectStore({ client, bucket, prefix: newPrefix() });
      const keys = ['e', 'd/2', 'c', 'b', 'd/1'];
      for (const key of keys) await store.put(key, key);
      assert.deepEqual((await store.list('')).map((o) => o.key), ['b', 'c', 'd/1', 'd/2', 'e']);
      assert.equal(pages, 3);
      await store.close();
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    });

    it('uploads a Readable body in parts while it is still being produced', async (t) => {
      const prefix = newPrefix();
      const store = open(prefix);
      t.after(() => store.close());
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let partsSeenMidStream = 0;
      async function* body() {
        for (let i = 0; i < 16; i++) {
          if (i === 12) {
            // 12 MiB produced: a store that buffered the whole body would have sent nothing yet.
            for (let tries = 0; tries < 100 && partsSeenMidStream === 0; tries++) {
              partsSeenMidStream = await uploadedParts(admin, bucket, `${prefix}big.bin`);
              if (partsSeenMidStream === 0) await new Promise((resolve) => setTimeout(resolve, 50));
            }
          }
          yield chunk;
        }
      }
      const info = await store.put('big.bin', Readable.from(body()));
      assert.equal(info.size, 16 * chunk.length);
      assert.ok(partsSeenMidStream > 0, 'parts reached MinIO before the body ended');
      assert.deepEqual(await store.get('big.bin'), Buffer.concat(Array.from({ length: 16 }, () => chunk)));
    });

    it('aborts the multipart upload of a body that fails after some parts', async (t) => {
      const prefix = newPrefix();
      const store = open(prefix);
      t.after(() => store.close());
      async function* failing() {
        for (let i = 0; i < 12; i++) yield Buffer.alloc(1024 * 1024, i);
        throw new Error('source broke late');
      }
      await assert.rejects(store.put('late.bin', Readable.from(failing())), /source broke late/);
      assert.equal(await store.head('late.bin'), undefined);
      const { Uploads } = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}late.bin` }));
      assert.deepEqual(Uploads ?? [], [], 'no multipart upload left behind');
    });

    it('creates its bucket when asked; otherwise names the missing bucket and what to do', async (t) => {
      const fresh = `${bucket}-new`;
      extraBuckets.push(fresh);
      const creating = createS3ObjectStore({ endpoint, bucket: fresh, credentials: MINIO_CREDENTIALS, createBucket: true });
      const missing = createS3ObjectStore({ endpoint, bucket: `${bucket}-missing`, credentials: MINIO_CREDENTIALS });
      t.after(() => Promise.all([creating.close(), missing.close()]));
      await Promise.all([creating.put('a', 'a'), creating.put('b', 'b')]);
      assert.deepEqual((await creating.list('')).map((o) => o.key), ['a', 'b']);
      await assert.rejects(missing.put('a', 'a'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'object_store_failed');
        assert.match(err.message, new RegExp(`${bucket}-missing.*createBucket`));
        return true;
      });
      await assert.rejects(missing.list(''), /NoSuchBucket|does not exist/);
    });
  });
}

async function uploadedParts(admin: S3Client, bucket: string, key: string): Promise<number> {
  const { Uploads } = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  const upload = Uploads?.find((u) => u.Key === key);
  if (!upload?.UploadId) return 0;
  const { Parts } = await admin.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }));
  return Parts?.length ?? 0;
}
