import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotFoundError, ValidationError, boundMessage, thrownName } from '../core/errors.ts';
import type { PipelineDef } from '../sdk/pipeline.ts';
import { compileSchedules } from './schedule-ticks.ts';

export type AnyPipeline = PipelineDef<Record<string, unknown>>;

/** A pipeline file that did not load, as Airflow shows a "Broken DAG": where, and why. */
export interface BrokenPipeline {
  readonly file: string;
  /** The error's class and message, bounded. */
  readonly error: string;
  /** In `file`, when the error says where (a syntax error, a throw at import, a bad dep). */
  readonly line: number | null;
  readonly column: number | null;
}

/** The pipelines a process knows, by name. */
export class PipelineRegistry {
  readonly #byName = new Map<string, AnyPipeline>();
  readonly #origin = new Map<string, string>();
  readonly #broken: BrokenPipeline[] = [];

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

  /** Files that did not load; the other pipelines load and run without them. */
  broken(): readonly BrokenPipeline[] {
    return this.#broken;
  }

  addBroken(file: string, err: unknown): void {
    this.#broken.push({ file, error: boundMessage(errorText(err)), ...locate(err, file) });
  }
}

function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const kind = thrownName(err);
  return kind === 'Error' || message.startsWith(`${kind}:`) ? message : `${kind}: ${message}`;
}

/** The first place in `file` the error names: its stack frames, a syntax error's header, a message's `file:line`. */
function locate(err: unknown, file: string): { line: number | null; column: number | null } {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const href = pathToFileURL(file).href;
  // The earliest mention wins: a message that names its place comes before the stack.
  const found = [href, file]
    .map((name) => ({ name, at: text.indexOf(`${name}:`) }))
    .filter((f) => f.at >= 0)
    .sort((a, b) => a.at - b.at)[0];
  if (found) {
    const m = /^:(\d+)(?::(\d+))?/.exec(text.slice(found.at + found.name.length));
    if (m) return { line: Number(m[1]), column: m[2] === undefined ? null : Number(m[2]) };
  }
  return { line: null, column: null };
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
 * directory, whose default export (or any named export) is a pipeline. A file that does not
 * load (a syntax error, a throw at import, an unknown dep, a bad cron, a name taken) is
 * listed as broken and the others load; a missing directory is an error.
 */
export async function loadPipelines(dirs: readonly string[]): Promise<PipelineRegistry> {
  const registry = new PipelineRegistry();
  for (const d of dirs) {
    const dir = resolve(d);
    if (!existsSync(dir)) throw new ValidationError(`pipelines directory not found: ${dir}`, 'pipelines');
    for (const file of candidates(dir)) {
      let defs: AnyPipeline[];
      try {
        const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        defs = [...new Set(Object.values(mod).filter(isPipeline))];
        // Bad crons and time zones are load errors, not surprises at the first tick.
        compileSchedules(defs);
      } catch (err) {
        registry.addBroken(file, err);
        continue;
      }
      for (const def of defs) {
        try {
          registry.add(def, file);
        } catch (err) {
          registry.addBroken(file, err);
        }
      }
    }
  }
  return registry;
}
