import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError, SluiceError, ValidationError } from '../../core/errors.ts';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.ts';
import { checkKey, checkPrefix } from '../object-keys.ts';

/** Where the objects live; the store creates its own client and destroys it on close. */
export interface S3ConnectionOptions {
  readonly bucket: string;
  /** Prepended to every key: with `runs/`, the key `a.csv` is the S3 object `runs/a.csv`. */
  readonly prefix?: string;
  /** An S3-compatible server (MinIO, ...); omitted for AWS itself. */
  readonly endpoint?: string;
  /** Default `us-east-1`, so the SDK never goes looking for a region of its own. */
  readonly region?: string;
  /** `bucket` in the path rather than the host name; default true when `endpoint` is set. */
  readonly forcePathStyle?: boolean;
  /** Omitted: the SDK's default chain (web identity on Kubernetes, instance roles, ...). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Create the bucket on first use when it does not exist. */
  readonly createBucket?: boolean;
}

/** A client shared with the caller: the store uses it and never destroys it. */
export interface S3ClientOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix?: string;
}

export type S3ObjectStoreOptions = S3ConnectionOptions | S3ClientOptions;

/**
 * An ObjectStore on an S3 bucket (AWS or any S3-compatible server). Keys follow the same
 * rules as the local adapter. Readable bodies are uploaded in parts of 5 MiB, at most
 * four in flight, so a put never holds a whole object in memory; a failed upload is
 * aborted, and S3 never shows a partial object. (A process killed mid-upload leaves its
 * parts behind until a lifecycle rule for incomplete multipart uploads removes them.)
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const { bucket } = options;
  if (!bucket) throw new ValidationError('s3 object store: a bucket is required', 'bucket');
  const base = basePrefix(options.prefix);
  const owned = !('client' in options);
  const client = 'client' in options ? options.client : createS3Client(options);
  const create = 'client' in options ? null : options.createBucket ? { region: options.region ?? 'us-east-1' } : null;
  let bucketReady: Promise<void> | null = null;

  // Only when asked to create the bucket; otherwise a missing bucket fails the first call.
  function ready(): Promise<void> {
    if (!create) return Promise.resolve();
    bucketReady ??= ensureBucket(client, bucket, create.region).catch((err: unknown) => {
      bucketReady = null; // the next call tries again
      throw failure(err, 'create the bucket');
    });
    return bucketReady;
  }

  function objectKey(key: string): string {
    checkKey(key);
    return base + key;
  }

  function failure(err: unknown, what: string): unknown {
    if (err instanceof SluiceError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    const hint = err instanceof Error && err.name === 'NoSuchBucket' ? ' (create the bucket, or open the store with createBucket: true)' : '';
    // A client error (denied, no such bucket) will fail the same way again; a server or
    // network error may not.
    const retryable = status === undefined || status >= 500 || status === 408 || status === 429;
    return new SluiceError('object_store_failed', `s3 bucket ${bucket}: cannot ${what}: ${message}${hint}`, { cause: err, retryable });
  }

  // HEAD answers a bare 404 for a missing bucket too, so only the other calls can name it.
  async function head(key: string): Promise<ObjectInfo | undefined> {
    const Key = objectKey(key);
    await ready();
    try {
      const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return info(key, res.ContentLength, res.LastModified);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw failure(err, `head object ${key}`);
    }
  }

  async function getObject(key: string) {
    const Key = objectKey(key);
    await ready();
    try {
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    } catch (err) {
      throw isMissing(err) ? new NotFoundError('object', key) : failure(err, `get object ${key}`);
    }
  }

  return {
    async put(key, body) {
      const Key = objectKey(key);
      await ready();
      try {
        if (typeof body === 'string' || Buffer.isBuffer(body)) {
          // As bytes: the SDK sends no Content-Length for '' (and warns about a stream).
          const bytes = typeof body === 'string' ? Buffer.from(body) : body;
          await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes, ContentLength: bytes.length }));
        } else {
          await new Upload({ client, params: { Bucket: bucket, Key, Body: body } }).done();
        }
      } catch (err) {
        // A body the upload gave up on must not keep its producer waiting.
        if (body instanceof Readable) body.destroy();
        throw failure(err, `put object ${key}`);
      }
      // S3 answers a put with an ETag only; size and time come from the object itself.
      const written = await head(key);
      if (!written) throw new SluiceError('object_store_failed', `object ${key} in s3 bucket ${bucket} vanished right after it was written`, { retryable: true });
      return written;
    },

    async get(key) {
      const res = await getObject(key);
      const bytes = await res.Body?.transformToByteArray();
      return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0);
    },

    async getStream(key) {
      const res = await getObject(key);
      if (res.Body instanceof Readable) return res.Body;
      // Node's request handler always answers with a stream; anything else is a web stream.
      return res.Body ? Readable.fromWeb(res.Body.transformToWebStream() as WebReadableStream) : Readable.from([]);
    },

    head,

    async list(prefix) {
      checkPrefix(prefix);
      await ready();
      const found: ObjectInfo[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base + prefix, ContinuationToken: token }));
          for (const o of page.Contents ?? []) {
            if (o.Key === undefined || !o.Key.startsWith(base)) continue;
            found.push(info(o.Key.slice(base.length), o.Size, o.LastModified));
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (err) {
        throw failure(err, `list objects under ${JSON.stringify(prefix)}`);
      }
      // S3 already lists in UTF-8 byte order; sorting again keeps the promise explicit.
      return found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    },

    async delete(key) {
      const Key = objectKey(key);
      await ready();
      // S3 answers 204 for a missing key as well: deleting it succeeds, as on the local adapter.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch((err: unknown) => {
        throw failure(err, `delete object ${key}`);
      });
    },

    async close() {
      if (owned) client.destroy();
    },
  };
}

/** The client a store of these options talks through (the probe uses the same). */
export function createS3Client(o: Omit<S3ConnectionOptions, 'bucket'>): S3Client {
  return new S3Client({
    region: o.region ?? 'us-east-1',
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
    ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
  });
}

/** `runs` and `runs/` both mean the folder `runs/`; the prefix obeys the key rules. */
export function basePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const folder = prefix.endsWith('/') ? prefix : `${prefix}/`;
  checkPrefix(folder);
  return folder;
}

async function ensureBucket(client: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  try {
    // us-east-1 is the one region that must not be named as a location constraint.
    const location = region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint };
    await client.send(new CreateBucketCommand({ Bucket: bucket, ...(location ? { CreateBucketConfiguration: location } : {}) }));
  } catch (err) {
    // Another store created it first.
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

/**
 * HEAD, LIST and the console report time to the second, the XML of a listing to the
 * millisecond; cut both to seconds so `head` and `list` agree on the same object.
 */
function info(key: string, size: number | undefined, modified: Date | undefined): ObjectInfo {
  const ms = modified?.getTime() ?? Date.now();
  return { key, size: size ?? 0, modifiedAt: new Date(ms - (ms % 1000)).toISOString() };
}

function isMissing(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'NoSuchKey' || err.name === 'NotFound') return true;
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}
