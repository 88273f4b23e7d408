import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotFoundError, SluiceError, ValidationError, boundMessage, thrownName } from '../core/errors.ts';
import type { PipelineDef } from '../sdk/pipeline.ts';
import { beginImports } from './pipeline-import.ts';
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

/** What a reload changed, by pipeline name. */
export interface ReloadChanges {
  readonly added: string[];
  readonly removed: string[];
  /** Still there, with other code (another version). */
  readonly changed: string[];
}

/**
 * The pipelines a process knows, by name: the one object the API, the scheduler, the
 * coordinator and the workers read. `reload()` swaps its contents for what the directories
 * hold now; the definitions it held before stay reachable by version (`resolve`), so an
 * attempt of a run that started earlier runs the code the run started with.
 */
export class PipelineRegistry {
  #byName = new Map<string, AnyPipeline>();
  #origin = new Map<string, string>();
  #broken: BrokenPipeline[] = [];
  /** Every definition this registry has held, by `name@version`. */
  readonly #history = new Map<string, AnyPipeline>();
  readonly #versions = new WeakMap<AnyPipeline, string>();
  readonly #dirs: readonly string[];
  #reloading: Promise<unknown> = Promise.resolve();

  /** `dirs`: where `reload()` looks (loadPipelines passes its own). */
  constructor(dirs: readonly string[] = []) {
    this.#dirs = dirs;
  }

  /** `version`: a hash of the code it came from (pipeline-import.ts); none for a definition made in code. */
  add(def: AnyPipeline, origin: string, version?: string): void {
    const prev = this.#origin.get(def.name);
    if (prev !== undefined) {
      throw new ValidationError(`pipeline "${def.name}" is defined twice: ${prev} and ${origin}`, 'name');
    }
    this.#byName.set(def.name, def);
    this.#origin.set(def.name, origin);
    if (version !== undefined) {
      this.#versions.set(def, version);
      this.#history.set(`${def.name}@${version}`, def);
    }
  }

  /** The version of a definition this registry holds or held; null when it has none. */
  versionOf(def: AnyPipeline): string | null {
    return this.#versions.get(def) ?? null;
  }

  /**
   * The definition of `name` at `version`: the current one, an earlier one this registry
   * held, or (after loading the directories again, in case they changed since the last
   * load) the one on disk now. Fails, never retried, when that code is not there anymore.
   */
  async resolve(name: string, version: string): Promise<AnyPipeline> {
    const known = this.#history.get(`${name}@${version}`);
    if (known) return known;
    if (this.#dirs.length > 0) await this.reload();
    const loaded = this.#history.get(`${name}@${version}`);
    if (loaded) return loaded;
    const current = this.#byName.get(name);
    const now = current ? `its code on disk is version ${this.versionOf(current) ?? 'unknown'}` : 'it is not defined anymore';
    throw new SluiceError('not_found', `pipeline ${name} version ${version}, which this run started with, is not loaded here and ${now}; start a new run to use the current code`, {
      nonRetryableReason: 'the code the run started with is gone: every attempt would find the same',
    });
  }

  /**
   * Loads the directories again and swaps this registry's contents for what they hold: new
   * files are added, changed ones replaced, removed ones dropped, broken ones listed.
   * Reloads run one at a time. A missing directory fails the reload and changes nothing.
   */
  reload(): Promise<ReloadChanges> {
    const next = this.#reloading.catch(() => undefined).then(() => this.#reloadNow());
    this.#reloading = next;
    return next;
  }

  async #reloadNow(): Promise<ReloadChanges> {
    const fresh = await loadPipelines(this.#dirs);
    const before = new Map([...this.#byName].map(([name, def]) => [name, this.versionOf(def) ?? def]));
    this.#byName = fresh.#byName;
    this.#origin = fresh.#origin;
    this.#broken = fresh.#broken;
    for (const [key, def] of fresh.#history) {
      this.#history.set(key, def);
      this.#versions.set(def, fresh.#versions.get(def)!);
    }
    const after = new Map([...this.#byName].map(([name, def]) => [name, this.versionOf(def) ?? def]));
    const sorted = (xs: Iterable<string>) => [...xs].sort();
    return {
      added: sorted([...after.keys()].filter((n) => !before.has(n))),
      removed: sorted([...before.keys()].filter((n) => !after.has(n))),
      changed: sorted([...after.keys()].filter((n) => before.has(n) && before.get(n) !== after.get(n))),
    };
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

const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The first place in `file` the error names: its stack frames, a syntax error's header, a
 * message's `file:line`. A reloaded file's URL carries `?v=N` (pipeline-import.ts).
 */
function locate(err: unknown, file: string): { line: number | null; column: number | null } {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  // The earliest mention wins: a message that names its place comes before the stack.
  const names = [pathToFileURL(file).href, file].map(escaped).join('|');
  const m = new RegExp(`(?:${names})(?:\\?v=\\d+)?:(\\d+)(?::(\\d+))?`).exec(text);
  return m ? { line: Number(m[1]), column: m[2] === undefined ? null : Number(m[2]) } : { line: null, column: null };
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
    // Gone since the listing (a save in progress while a reload runs): not a candidate.
    const stat = statSync(p, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) {
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
  const resolved = dirs.map((d) => resolve(d));
  const registry = new PipelineRegistry(resolved);
  for (const dir of resolved) {
    if (!existsSync(dir)) throw new ValidationError(`pipelines directory not found: ${dir}`, 'pipelines');
  }
  const imports = beginImports(resolved);
  for (const dir of resolved) {
    for (const file of candidates(dir)) {
      let defs: AnyPipeline[];
      let version: string;
      try {
        const loaded = await imports.importFile(file, dir);
        version = loaded.version;
        defs = [...new Set(Object.values(loaded.module).filter(isPipeline))];
        // Bad crons and time zones are load errors, not surprises at the first tick.
        compileSchedules(defs);
      } catch (err) {
        registry.addBroken(file, err);
        continue;
      }
      for (const def of defs) {
        try {
          registry.add(def, file, version);
        } catch (err) {
          registry.addBroken(file, err);
        }
      }
    }
  }
  return registry;
}
