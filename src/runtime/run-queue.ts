import type { ActiveRun } from './active-run.ts';

/**
 * Admission: runs wait here `queued` until the limits let them start, oldest first — at
 * most `maxConcurrentRuns` running across all pipelines and a pipeline's own `concurrency`.
 * A run its pipeline's limit holds back does not block the runs of other pipelines behind it.
 */
export class RunQueue {
  readonly #queue: ActiveRun[] = [];
  readonly #maxConcurrentRuns: number;

  constructor(maxConcurrentRuns: number) {
    this.#maxConcurrentRuns = maxConcurrentRuns;
  }

  get size(): number {
    return this.#queue.length;
  }

  push(run: ActiveRun): void {
    this.#queue.push(run);
  }

  /** Whether the run was waiting (and now is not). */
  remove(run: ActiveRun): boolean {
    const i = this.#queue.indexOf(run);
    if (i >= 0) this.#queue.splice(i, 1);
    return i >= 0;
  }

  /** The oldest run the limits let start beside `running`, taken off the queue; undefined when none may. */
  take(running: readonly ActiveRun[]): ActiveRun | undefined {
    if (running.length >= this.#maxConcurrentRuns) return undefined;
    const i = this.#queue.findIndex((run) => {
      const limit = run.def.concurrency;
      return limit === null || running.filter((r) => r.def.name === run.def.name).length < limit;
    });
    return i < 0 ? undefined : this.#queue.splice(i, 1)[0];
  }
}
