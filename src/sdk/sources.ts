import { createReadStream, existsSync, statSync } from 'node:fs';
import { glob } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { SluiceError, ValidationError } from '../core/errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';

export interface SourceFile {
  /** What the user would recognise: a path or a URL. */
  readonly name: string;
  open(): Promise<Readable>;
}

const GLOB = /[*?[\]{}]/;

/**
 * Resolves a source spec to files, in name order: a file, a directory (its files with the
 * given extension), a glob, or an http(s) URL. A URL is downloaded once into the object
 * store under `cachePrefix` and read from there, so a retry does not fetch it again.
 * A spec that matches nothing is an error that names it.
 *
 * @example
 * for (const f of await resolveSources('data/*.csv', { extension: '.csv', objects: ctx.objects })) {
 *   const stream = await f.open();
 * }
 */
export async function resolveSources(
  spec: string,
  options: { extension: string; objects: ObjectStore; cachePrefix?: string; signal?: AbortSignal },
): Promise<SourceFile[]> {
  if (/^https?:\/\//i.test(spec)) return [await download(spec, options)];
  const local = (p: string): SourceFile => ({ name: p, open: async () => createReadStream(p) });
  if (GLOB.test(spec)) {
    const found: string[] = [];
    for await (const p of glob(spec)) found.push(resolve(p));
    const files = found.filter((p) => statSync(p).isFile()).sort();
    if (files.length === 0) throw new ValidationError(`source glob matched no files: ${spec}`, 'source');
    return files.map(local);
  }
  const path = resolve(spec);
  if (!existsSync(path)) throw new ValidationError(`source not found: ${path}`, 'source');
  if (statSync(path).isFile()) return [local(path)];
  const files: string[] = [];
  for await (const p of glob(`*${options.extension}`, { cwd: path })) files.push(join(path, p));
  if (files.length === 0) throw new ValidationError(`source directory has no ${options.extension} files: ${path}`, 'source');
  return files.sort().map(local);
}

async function download(url: string, options: { objects: ObjectStore; cachePrefix?: string; signal?: AbortSignal }): Promise<SourceFile> {
  const key = `${options.cachePrefix ?? 'downloads'}/${encodeURIComponent(url)}`;
  if (!(await options.objects.head(key))) {
    let res: Response;
    try {
      res = await fetch(url, { signal: options.signal });
    } catch (err) {
      throw new SluiceError('source_unavailable', `cannot fetch source ${url}: ${(err as Error).message}`, { cause: err, retryable: true });
    }
    if (!res.ok || !res.body) {
      // 4xx will not get better by retrying; 5xx and the like might.
      throw new SluiceError('source_unavailable', `cannot fetch source ${url}: HTTP ${res.status}`, { retryable: res.status >= 500 });
    }
    await options.objects.put(key, Readable.fromWeb(res.body as WebReadableStream));
  }
  return { name: `${url} (${basename(new URL(url).pathname)})`, open: () => options.objects.getStream(key) };
}
