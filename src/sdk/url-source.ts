import { createHash, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import { z } from 'zod';
import { SluiceError } from '../core/errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { SourceFile } from './sources.ts';
import type { SourcePolicy } from './source-policy.ts';
import { policyGet } from './url-fetch.ts';
import type { Resolver } from './url-policy.ts';

/** What the cache knows about one URL; written only after a whole body was stored. */
const cacheEntry = z.object({
  v: z.literal(1),
  url: z.string(),
  dataKey: z.string(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  fetchedAt: z.string(),
});
type CacheEntry = z.infer<typeof cacheEntry>;

export interface UrlSourceOptions {
  readonly objects: ObjectStore;
  readonly policy: SourcePolicy;
  readonly cachePrefix?: string;
  readonly signal?: AbortSignal;
  readonly resolver?: Resolver;
}

/**
 * Fetches an http(s) source into the object store and returns it as a SourceFile. Every
 * call revalidates (If-None-Match / If-Modified-Since): the cached copy is used only on a
 * 304, anything else downloads again. The cache entry points at the new copy only once the
 * body arrived whole (no early close, the announced length, within `maxBytes`), so a broken
 * download never becomes the cached copy.
 */
export async function urlSource(href: string, o: UrlSourceOptions): Promise<SourceFile> {
  const base = `${o.cachePrefix ?? 'downloads'}/${createHash('sha256').update(href).digest('hex').slice(0, 40)}`;
  const entryKey = `${base}.json`;
  const cached = await readEntry(o.objects, entryKey);
  const headers: Record<string, string> = {};
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
  const { url, res } = await policyGet(o.policy, href, { headers, signal: o.signal, resolver: o.resolver });
  const status = res.statusCode ?? 0;
  const name = `${href} (${basename(new URL(href).pathname)})`;
  if (status === 304 && cached) {
    res.resume();
    return fileOf(name, o.objects, cached, 'unchanged');
  }
  if (status < 200 || status >= 300) {
    res.resume();
    // A 4xx will not get better by retrying; a 5xx, 408 or 429 might.
    const retryable = status >= 500 || status === 408 || status === 429;
    throw new SluiceError('source_unavailable', `cannot fetch source ${url.href}: HTTP ${status}`, { retryable });
  }
  const announced = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
  if (announced !== null && announced > o.policy.maxBytes) {
    res.destroy();
    throw tooLarge(url.href, o.policy, `${announced} bytes announced`);
  }

  const dataKey = `${base}/${randomUUID()}`;
  const hash = createHash('sha256');
  let bytes = 0;
  // What went wrong on the source's side, told apart from a failing object store.
  let broken: Error | null = null;
  res.on('error', (err) => (broken ??= err));
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > o.policy.maxBytes) {
        broken = tooLarge(url.href, o.policy, `more than ${o.policy.maxBytes} bytes received`);
        return done(broken);
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const body = pipeline(res, meter, () => undefined);
  try {
    await o.objects.put(dataKey, body);
    if (announced !== null && bytes !== announced) broken = new Error(`${bytes} of ${announced} announced bytes arrived`);
  } catch (err) {
    if (broken === null) {
      await o.objects.delete(dataKey).catch(() => undefined);
      throw err;
    }
  }
  if (broken !== null) {
    await o.objects.delete(dataKey).catch(() => undefined);
    if (broken instanceof SluiceError) throw broken;
    const why = (broken as Error).message;
    throw new SluiceError('source_unavailable', `download of source ${url.href} broke off after ${bytes} bytes: ${why}`, { cause: broken, retryable: true });
  }
  const entry: CacheEntry = {
    v: 1,
    url: href,
    dataKey,
    etag: header(res.headers.etag),
    lastModified: header(res.headers['last-modified']),
    bytes,
    sha256: hash.digest('hex'),
    fetchedAt: new Date().toISOString(),
  };
  await o.objects.put(entryKey, JSON.stringify(entry));
  if (cached && cached.dataKey !== dataKey) await o.objects.delete(cached.dataKey).catch(() => undefined);
  return fileOf(name, o.objects, entry, 'downloaded');
}

async function readEntry(objects: ObjectStore, key: string): Promise<CacheEntry | null> {
  if (!(await objects.head(key))) return null;
  let raw: unknown;
  try {
    raw = JSON.parse((await objects.get(key)).toString('utf8'));
  } catch {
    return null;
  }
  const parsed = cacheEntry.safeParse(raw);
  // An entry whose copy is gone is as good as none: download again, unconditionally.
  if (!parsed.success || !(await objects.head(parsed.data.dataKey))) return null;
  return parsed.data;
}

function fileOf(name: string, objects: ObjectStore, e: CacheEntry, fetch: 'downloaded' | 'unchanged'): SourceFile {
  return {
    name,
    open: () => objects.getStream(e.dataKey),
    describe: () => ({ name, bytes: e.bytes, sha256: e.sha256, fetch }),
  };
}

function header(v: string | string[] | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function tooLarge(href: string, policy: SourcePolicy, what: string): SluiceError {
  return new SluiceError('source_too_large', `source ${href} is larger than sources.maxBytes (${policy.maxBytes} bytes): ${what}; raise SLUICE_SOURCE_MAX_BYTES`);
}
