import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import type { PipelineDef } from '../sdk/pipeline.ts';
import { compileSchedules } from './schedule-ticks.ts';

export type AnyPipeline = PipelineDef<Record<string, unknown>>;

/** The pipelines a process knows, by name. */
export class PipelineRegistry {
  readonly #byName = new Map<string, AnyPipeline>();
  readonly #origin = new Map<string, string>();

  add(def: AnyPipeline, origin: string): void {
    const prev = this.#origin.get(def.name);
    if (prev !== undefined) {
      throw new ValidationError(`pipeline "${def.name}" is defined twice: ${prev} and ${origin}`, 'name');
    }
    this.#byName.set(def.name, def);
    this.#origin.set(def.name, origin);
  }

  get(name: string): AnyPipeline {
    const def = this.#byName.get(name);
    if (!def) {
      const known = [...this.#byName.keys()].sort().join(', ') || 'none';
      throw new NotFoundError('pipeline', `${name} (known: ${known})`);
    }
    return def;
  }

  list(): AnyPipeline[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Warehouse databases the pipelines' assets live in (`marts` of `marts.fact_sales`). */
  databases(): Set<string> {
    const dbs = new Set<string>();
    for (const p of this.#byName.values()) {
      for (const s of p.steps) for (const a of s.assets) if (a.name.includes('.')) dbs.add(a.name.slice(0, a.name.indexOf('.')));
    }
    return dbs;
  }

  originOf(name: string): string | undefined {
    return this.#origin.get(name);
  }
}

function isPipeline(x: unknown): x is AnyPipeline {
  return typeof x === 'object' && x !== null && 'name' in x && 'steps' in x && 'order' in x;
}

/** `dir/<name>/index.ts` and `dir/<name>.ts`, sorted. */
function candidates(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.startsWith('_')) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) {
      const index = join(p, 'index.ts');
      if (existsSync(index)) out.push(index);
    } else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Discovers pipelines: every `index.ts` of a folder and every `.ts` file directly in each
 * directory, whose default export (or any named export) is a pipeline.
 */
export async function loadPipelines(dirs: readonly string[]): Promise<PipelineRegistry> {
  const registry = new PipelineRegistry();
  for (const d of dirs) {
    const dir = resolve(d);
    if (!existsSync(dir)) throw new ValidationError(`pipelines directory not found: ${dir}`, 'pipelines');
    for (const file of candidates(dir)) {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      } catch (err) {
        throw new ValidationError(`cannot load pipeline file ${file}: ${(err as Error).message}`, 'pipelines', err);
      }
      const defs = new Set(Object.values(mod).filter(isPipeline));
      for (const def of defs) registry.add(def, file);
    }
  }
  // Bad crons and time zones are load errors, not surprises at the first tick.
  compileSchedules(registry.list());
  return registry;
}
