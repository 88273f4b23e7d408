import { NotSupportedError } from '../../core/errors.ts';
import type { LaunchRequest, Launcher } from '../../ports/launcher.ts';

/** Runs an attempt to completion; reports through the bus, never by return value. */
export type AttemptRunner = (request: LaunchRequest, signal: AbortSignal) => Promise<unknown>;

/**
 * Runs attempts in this process, concurrently, each with its own AbortController. Used by
 * `sluice run` and by tests: nothing to start, nothing to lose.
 */
export class InProcessLauncher implements Launcher {
  readonly kind = 'inprocess';
  readonly canKill = false;
  readonly #run: AttemptRunner;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  constructor(run: AttemptRunner) {
    this.#run = run;
  }

  async launch(request: LaunchRequest): Promise<void> {
    const controller = new AbortController();
    // Deferred to the next macrotask so the coordinator has recorded the dispatch
    // before the first event of the attempt can arrive.
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#run(request, controller.signal))
      .catch(() => undefined)
      .finally(() => this.#running.delete(request.attemptId));
    this.#running.set(request.attemptId, { controller, done });
  }

  async terminate(attemptId: string, reason: string): Promise<void> {
    this.#running.get(attemptId)?.controller.abort(new Error(reason));
  }

  async kill(attemptId: string): Promise<void> {
    throw new NotSupportedError(
      `attempt ${attemptId} runs in this process, which cannot end it by force; `
        + 'run it on a control plane with worker processes (sluice dev, sluice server) to have stuck attempts killed',
    );
  }

  /** Cancels whatever still runs and waits for it to report. */
  async close(): Promise<void> {
    const all = [...this.#running.values()];
    for (const r of all) r.controller.abort(new Error('launcher closed'));
    await Promise.all(all.map((r) => r.done));
  }
}
