import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports pipeline files so that a reload runs the code on disk now, not the code first
 * imported (docs/decisions/0013-pipeline-reload.md). ESM caches a module per URL for the
 * life of the process, so a file imported again is imported as `file.ts?v=N`, and a
 * resolve hook gives every import of a `?v=N` module that stays inside the pipeline
 * directories the same `?v=N`: its own helpers are fresh too. What lies outside (the SDK,
 * node_modules) is shared by every version.
 *
 * Each pipeline file has a version: a hash of the contents of the file and of the files it
 * imports by relative path inside the directories (read from disk, so the same code has the
 * same version in every process: the control plane, each worker). A file whose version did
 * not change is not imported again.
 */

/** The pipeline directories, as `file:` hrefs ending in `/`. */
const roots = new Set<string>();

interface Imported {
  readonly module: Record<string, unknown>;
  readonly version: string;
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
      if (parent === undefined || !inRoots(parent) || !inRoots(resolved.url) || resolved.url.includes('?')) return resolved;
      const tag = new URL(parent).searchParams.get('v');
      return tag === null ? resolved : { ...resolved, url: `${resolved.url}?v=${tag}` };
    },
  });
}

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Relative specifiers of static imports, re-exports and `import('…')`. A loose match: what
 * it takes for an import by mistake (a commented-out one) only adds a file to the hash.
 */
const RELATIVE_IMPORT = /\b(?:import|export)\s*(?:[^'"`;]*?\bfrom\s*)?['"](\.\.?\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.\.?\/[^'"]+)['"]\s*\)/g;

/** The file and what it reaches by relative imports inside the roots, each with the hash of its contents. */
function closure(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (out.has(f)) continue;
    let source: string;
    try {
      source = readFileSync(f, 'utf8');
    } catch {
      // Gone or unreadable: the import will say so; the version still differs.
      out.set(f, '-');
      continue;
    }
    out.set(f, sha(source));
    for (const m of source.matchAll(RELATIVE_IMPORT)) {
      const child = resolve(dirname(f), m[1] ?? m[2]!);
      if (inRoots(pathToFileURL(child).href)) stack.push(child);
    }
  }
  return out;
}

/** A short hash of the closure, with paths relative to its pipelines directory. */
export function pipelineVersion(file: string, root: string): string {
  const lines = [...closure(file)].map(([f, d]) => `${relative(root, f).split(sep).join('/')}\0${d}`).sort();
  return sha(lines.join('\n')).slice(0, 12);
}

/**
 * Starts a loading pass over `dirs`. The first pass of a process imports files under their
 * plain URL (stack traces stay as they are); every later pass that must import a file
 * again uses a fresh `?v=N`.
 */
export function beginImports(dirs: readonly string[]): { importFile(file: string, root: string): Promise<Imported> } {
  hook();
  for (const d of dirs) roots.add(pathToFileURL(d.endsWith(sep) ? d : `${d}${sep}`).href);
  const tag = generation++;
  return {
    async importFile(file, root) {
      const version = pipelineVersion(file, root);
      const prev = imported.get(file);
      if (prev?.version === version) return prev;
      const href = pathToFileURL(file).href;
      const module = (await import(tag === 0 && !prev ? href : `${href}?v=${tag}`)) as Record<string, unknown>;
      // Saved again while it was being imported: what ran may be either; the next reload settles it.
      const next: Imported = { module, version: pipelineVersion(file, root) === version ? version : `${version}~` };
      imported.set(file, next);
      return next;
    },
  };
}
