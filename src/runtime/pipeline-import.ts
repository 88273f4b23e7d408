import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Imports pipeline files so that a reload runs the code on disk now, not the code first
 * imported (docs/decisions/0013-pipeline-reload.md). ESM caches a module per URL for the
 * life of the process, so a file imported again is imported as `file.ts?v=N`, and a
 * resolve hook gives every import of a `?v=N` module that stays inside the pipeline
 * directories the same `?v=N`: its own helpers are fresh too. What lies outside (the SDK,
 * node_modules) is shared by every version.
 *
 * The hook also records who imports whom inside the directories, so each pipeline file has
 * a closure (the file and the helpers it reaches) and a version: a hash of that closure's
 * contents. The same code has the same version in every process (the control plane, each
 * worker), and a file whose closure did not change is not imported again.
 */

/** The pipeline directories, as `file:` hrefs ending in `/`. */
const roots = new Set<string>();
/** Parent URL → the URLs it imports inside the roots (as resolved, with their `?v=`). */
const edges = new Map<string, Set<string>>();

interface Imported {
  readonly module: Record<string, unknown>;
  readonly version: string;
  /** Every file of the closure with the hash of its contents when it was imported. */
  readonly digests: ReadonlyMap<string, string>;
}

/** The last successful import of each pipeline file (absolute path). */
const imported = new Map<string, Imported>();
let generation = 0;
let hooked = false;

function inRoots(url: string): boolean {
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return false;
  for (const r of roots) if (url.startsWith(r)) return true;
  return false;
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      const parent = context.parentURL;
      if (parent === undefined || !inRoots(parent) || !inRoots(resolved.url)) return resolved;
      const tag = new URL(parent).searchParams.get('v');
      const url = tag !== null && !resolved.url.includes('?') ? `${resolved.url}?v=${tag}` : resolved.url;
      let children = edges.get(parent);
      if (!children) edges.set(parent, (children = new Set()));
      children.add(url);
      return url === resolved.url ? resolved : { ...resolved, url };
    },
  });
}

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The files a module reaches inside the roots, itself first. */
function closure(url: string): string[] {
  const seen = new Set<string>([url]);
  const stack = [url];
  while (stack.length > 0) {
    for (const child of edges.get(stack.pop()!) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        stack.push(child);
      }
    }
  }
  return [...new Set([...seen].map((u) => fileURLToPath(u)))];
}

function digestsOf(files: readonly string[]): Map<string, string> {
  return new Map(files.map((f) => [f, sha(readFileSync(f))]));
}

/** A short hash of the closure's contents, with paths relative to its pipelines directory. */
function versionOf(root: string, digests: ReadonlyMap<string, string>): string {
  const lines = [...digests].map(([f, d]) => `${relative(root, f)}\0${d}`).sort();
  return sha(lines.join('\n')).slice(0, 12);
}

function unchanged(prev: Imported): boolean {
  try {
    for (const [file, digest] of prev.digests) if (sha(readFileSync(file)) !== digest) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a loading pass over `dirs`. The first pass of a process imports files under their
 * plain URL (stack traces stay as they are); every later pass that must import a file
 * again uses a fresh `?v=N`.
 */
export function beginImports(dirs: readonly string[]): { importFile(file: string, root: string): Promise<{ module: Record<string, unknown>; version: string }> } {
  hook();
  for (const d of dirs) roots.add(pathToFileURL(d.endsWith('/') ? d : `${d}/`).href);
  const tag = generation++;
  return {
    async importFile(file, root) {
      const prev = imported.get(file);
      if (prev && unchanged(prev)) return prev;
      const href = pathToFileURL(file).href;
      const url = tag === 0 ? href : `${href}?v=${tag}`;
      const module = (await import(url)) as Record<string, unknown>;
      const digests = digestsOf(closure(url));
      const next: Imported = { module, digests, version: versionOf(root, digests) };
      imported.set(file, next);
      return next;
    },
  };
}
