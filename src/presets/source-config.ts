import { resolve } from 'node:path';
import { z } from 'zod';

const httpUrl = z.string().refine((u) => {
  try {
    return ['http:', 'https:'].includes(new URL(u).protocol);
  } catch {
    return false;
  }
}, 'must be an http or https URL');

/** The `sources` section of the config: what runs may read (src/sdk/source-policy.ts). */
export const sourcesSchema = z
  .object({
    /**
     * Unset: the command decides. `sluice run` and `sluice dev` (loopback) are trusted;
     * `sluice server` and `sluice worker` are restricted to `roots` and `urlPrefixes`.
     */
    trust: z.enum(['trusted', 'restricted']).optional(),
    /** Directories a restricted run may read. Unset: the shipped data directory and `<home>/inbox`. */
    roots: z.array(z.string().min(1)).optional(),
    /** URL prefixes a restricted run may fetch; none unless configured. */
    urlPrefixes: z.array(httpUrl).default([]),
    /** Let sources reach private, loopback, link-local and metadata addresses (off: SSRF guard). */
    allowPrivateNetworks: z.boolean().default(false),
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
    /** Largest download; 1 GiB unless configured. */
    maxBytes: z.number().int().min(1).default(1 << 30),
  })
  .strict()
  .prefault({});

export type SourcesConfig = z.output<typeof sourcesSchema>;

/** The file's section under the environment's, with the file's roots made absolute. */
export function mergeSources(file: unknown, env: Record<string, unknown>, cwd: string): unknown {
  if (file !== undefined && (typeof file !== 'object' || file === null || Array.isArray(file))) return file;
  const base = { ...(file as Record<string, unknown> | undefined) };
  if (Array.isArray(base.roots)) base.roots = base.roots.map((r) => (typeof r === 'string' ? resolve(cwd, r) : r));
  return { ...base, ...env };
}
