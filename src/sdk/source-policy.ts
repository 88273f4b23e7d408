import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { SluiceError } from '../core/errors.ts';

/**
 * What a run may read through `resolveSources`, decided by whoever started the process
 * (docs/decisions/0009-source-policy.md). `trusted` (`sluice run`, `sluice dev`): any local
 * path, any URL, loopback included. `restricted` (`sluice server`, `sluice worker`): local
 * files under `roots` only, URLs under `urlPrefixes` only. Either way an http(s) source
 * that resolves to a private, link-local or reserved address is refused unless
 * `allowPrivateNetworks` (restricted mode counts loopback among them).
 *
 * @example
 * const policy: SourcePolicy = {
 *   trust: 'restricted', roots: ['/srv/inbox'], urlPrefixes: ['https://data.example.org/exports/'],
 *   allowPrivateNetworks: false, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBytes: 1 << 30,
 * };
 */
export interface SourcePolicy {
  readonly trust: 'trusted' | 'restricted';
  /** Absolute directories; a restricted run reads files whose real path is under one. */
  readonly roots: readonly string[];
  /** A restricted run fetches only URLs under one of these (same origin, path prefix on a `/` boundary). */
  readonly urlPrefixes: readonly string[];
  readonly allowPrivateNetworks: boolean;
  /** Until the TCP connection is up. */
  readonly connectTimeoutMs: number;
  /** The longest silence while waiting for headers or body bytes. */
  readonly idleTimeoutMs: number;
  /** A download larger than this fails (and is not cached). */
  readonly maxBytes: number;
}

/** Refusals by the policy: never retryable, and they name the rule and the setting that changes it. */
export function forbidden(message: string): SluiceError {
  return new SluiceError('source_forbidden', message, { retryable: false });
}

/**
 * Where a local source path really is, after the policy allowed it: lexically first (so a
 * refused path is never even looked at, and an error cannot tell whether it exists), then
 * after following symlinks. A path that does not exist comes back as given.
 */
export async function allowedPath(policy: SourcePolicy, path: string): Promise<string> {
  const abs = resolve(path);
  if (policy.trust === 'trusted') return abs;
  const roots = await realRoots(policy);
  if (!roots.some((r) => within(abs, r.lexical) || within(abs, r.real))) throw outsideRoots(policy, path);
  const real = await realpath(abs).catch(() => null);
  if (real === null) return abs;
  if (!roots.some((r) => within(real, r.real))) throw outsideRoots(policy, path, 'through a symbolic link');
  return real;
}

/** The directory a glob's matches all live under: its path up to the first wildcard segment. */
export function globBase(pattern: string): string {
  const parts = resolve(pattern).split('/');
  const i = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  return parts.slice(0, i < 0 ? parts.length : i).join('/') || '/';
}

async function realRoots(policy: SourcePolicy): Promise<{ lexical: string; real: string }[]> {
  return Promise.all(
    policy.roots.map(async (r) => {
      const lexical = resolve(r);
      return { lexical, real: await realpath(lexical).catch(() => lexical) };
    }),
  );
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function outsideRoots(policy: SourcePolicy, path: string, how = ''): SluiceError {
  const roots = policy.roots.length > 0 ? policy.roots.join(', ') : 'none configured';
  return forbidden(
    `source ${path} is outside the source roots${how ? ` (${how})` : ''}: this server reads local files only under ` +
      `sources.roots (${roots}); put the file there or add its directory to SLUICE_SOURCE_ROOTS`,
  );
}
