import { watch, type FSWatcher } from 'node:fs';
import { sep } from 'node:path';
import { describeError } from '../core/errors.ts';
import type { PipelineRegistry, ReloadChanges } from './pipeline-registry.ts';
import type { Logger } from './services.ts';

/** What runs attempts in other processes and must load the new definitions too (the worker pool). */
export interface ReloadableWorkers {
  reload(): Promise<readonly { workerId: string; ok: boolean; message?: string }[]>;
}

/**
 * Reloads the pipeline definitions everywhere they live: the registry the API, the
 * scheduler and the coordinator read, then the workers (each keeps the versions it had, for
 * the attempts of runs that started before). Resolves with what changed once every worker
 * answered; a worker that could not reload is logged (it loads the version an attempt asks
 * for when it gets one it does not have).
 */
export function definitionReloader(registry: PipelineRegistry, workers: ReloadableWorkers | null, logger: Logger): () => Promise<ReloadChanges> {
  return async () => {
    const changes = await registry.reload();
    for (const w of (await workers?.reload()) ?? []) {
      if (!w.ok) logger.warn({ worker: w.workerId, err: w.message }, 'worker could not reload the pipelines');
    }
    logger.info({ ...changes, broken: registry.broken().length }, 'pipelines reloaded');
    return changes;
  };
}

/** One line per file that did not load, for a terminal: a warning a person acts on, not a stop. */
export function brokenWarnings(registry: PipelineRegistry): string[] {
  return registry.broken().map((b) => `warning: ${b.file}${b.line === null ? '' : `:${b.line}`} did not load (the other pipelines run): ${b.error}`);
}

/** A reload for a terminal: one line of what changed, and a warning per broken file. */
export function describeReload(changes: ReloadChanges, registry: PipelineRegistry): { summary: string; warnings: string[] } {
  const parts = (['added', 'changed', 'removed'] as const).filter((k) => changes[k].length > 0).map((k) => `${k} ${changes[k].join(', ')}`);
  return { summary: `pipelines reloaded: ${parts.join('; ') || 'no change'}`, warnings: brokenWarnings(registry) };
}

/** Names a reload does not care about: editor swap files, dot directories, dependencies. */
function ignored(name: string | null): boolean {
  if (name === null) return false;
  return name.split(sep).some((part) => part.startsWith('.') || part === 'node_modules') || /~$|\.swp$/.test(name);
}

/**
 * Watches pipeline directories (recursively) and calls `onChange` once a burst of changes
 * has been quiet for `debounceMs`: one reload per save, even when an editor writes a file
 * in several steps. A change during a reload schedules another after it.
 */
export function watchPipelineDirs(
  dirs: readonly string[], onChange: () => Promise<unknown>, options: { debounceMs?: number; logger: Logger },
): { close(): void } {
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let again = false;
  let closed = false;
  const fire = (): void => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = onChange()
      .catch((err: unknown) => options.logger.warn({ err: describeError(err) }, 'pipeline reload failed'))
      .finally(() => {
        running = null;
        if (again && !closed) {
          again = false;
          fire();
        }
      });
  };
  const changed = (name: string | null): void => {
    if (closed || ignored(name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const watchers: FSWatcher[] = dirs.map((dir) => {
    const w = watch(dir, { recursive: true, persistent: false }, (_event, name) => changed(name === null ? null : String(name)));
    w.on('error', (err) => options.logger.warn({ dir, err: describeError(err) }, 'stopped watching a pipelines directory'));
    return w;
  });
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
