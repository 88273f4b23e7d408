import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { glob, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { ValidationError } from '../core/errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { allowedPath, forbidden, globBase, type SourcePolicy } from './source-policy.ts';
import { urlSource } from './url-source.ts';

/** What a materialization records about one input. */
export interface SourceDescription {
  readonly name: string;
  /** Size and SHA-256 of the content; for a local file known once `open()`'s stream was read to its end. */
  readonly bytes?: number;
  readonly sha256?: string;
  /** URL sources: fetched anew, or the cached copy after the server answered 304 Not Modified. */
  readonly fetch?: 'downloaded' | 'unchanged';
}

export interface SourceFile {
  /** What the user would recognise: a path or a URL. */
  readonly name: string;
  open(): Promise<Readable>;
  describe(): SourceDescription;
}

export interface ResolveSourcesOptions {
  /** Files a directory source contributes, e.g. `.csv`. */
  readonly extension: string;
  readonly objects: ObjectStore;
  /** What this run may read: pass `ctx.sources`. */
  readonly policy: SourcePolicy;
  /** Where URL downloads are cached in the object store (default `downloads`). */
  readonly cachePrefix?: string;
  readonly signal?: AbortSignal;
}

const GLOB = /[*?[\]{}]/;

/**
 * Resolves a source spec to files, in name order: a file, a directory (its files with the
 * given extension), a glob, or an http(s) URL, as far as `policy` allows (a refusal names
 * the rule). A URL is fetched into the object store under `cachePrefix` and revalidated on
 * every call; the cached copy is read only when the server says it has not changed.
 * A spec that matches nothing is an error that names it.
 *
 * @example
 * const files = await resolveSources(ctx.params.source, { extension: '.csv', objects: ctx.objects, policy: ctx.sources, signal: ctx.signal });
 * for (const f of files) {
 *   for await (const rec of csvRecords(await f.open())) { ... }
 * }
 * ctx.materialize('raw.orders', { rows, metadata: { sources: files.map((f) => f.describe()) } });
 */
export async function resolveSources(spec: string, options: ResolveSourcesOptions): Promise<SourceFile[]> {
  const { policy } = options;
  if (/^https?:\/\//i.test(spec)) return [await urlSource(spec, options)];
  if (GLOB.test(spec)) {
    if (policy.trust === 'restricted') await allowedPath(policy, globBase(spec));
    const pattern = policy.trust === 'restricted' ? resolve(spec) : spec;
    const found: { name: string; real: string }[] = [];
    let outside = 0;
    for await (const p of glob(pattern)) {
      const name = resolve(p);
      const real = await allowedPath(policy, name).catch(() => null);
      if (real === null) outside += 1;
      else if ((await stat(real).catch(() => null))?.isFile()) found.push({ name, real });
    }
    if (outside > 0) throw forbidden(`source glob ${spec} matches ${outside} file(s) outside sources.roots (through symbolic links or ..)`);
    if (found.length === 0) throw new ValidationError(`source glob matched no files: ${spec}`, 'source');
    return found.sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => localFile(f.name, f.real));
  }
  const path = resolve(spec);
  const real = await allowedPath(policy, path);
  const info = await stat(real).catch(() => null);
  if (!info) throw new ValidationError(`source not found: ${path}`, 'source');
  if (info.isFile()) return [localFile(path, real)];
  const files: SourceFile[] = [];
  for await (const p of glob(`*${options.extension}`, { cwd: real })) {
    const fileReal = await allowedPath(policy, join(real, p));
    if ((await stat(fileReal).catch(() => null))?.isFile()) files.push(localFile(join(path, p), fileReal));
  }
  if (files.length === 0) throw new ValidationError(`source directory has no ${options.extension} files: ${path}`, 'source');
  return files.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A local file, hashed as it is read, so describing it costs no second pass. */
function localFile(name: string, real: string): SourceFile {
  let digest: { bytes: number; sha256: string } | null = null;
  return {
    name,
    async open() {
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
        flush(done) {
          digest = { bytes, sha256: hash.digest('hex') };
          done();
        },
      });
      // pipeline, not pipe: a reader that stops early (a bad header) must close the file too.
      return pipeline(createReadStream(real), meter, () => undefined);
    },
    describe: () => ({ name, ...digest }),
  };
}
