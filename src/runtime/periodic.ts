import { ValidationError, describeError } from '../core/errors.ts';
import type { Logger } from './services.ts';

/** A loop that runs `work` now and then `intervalMs` after each pass ends; passes never overlap. */
export class Periodic {
  #loop: { stopped: boolean; timer: NodeJS.Timeout | undefined } | null = null;
  readonly #work: () => Promise<unknown>;
  readonly #logger: Logger;
  readonly #what: string;

  constructor(work: () => Promise<unknown>, logger: Logger, what: string) {
    this.#work = work;
    this.#logger = logger;
    this.#what = what;
  }

  start(intervalMs: number): void {
    if (!(intervalMs > 0)) throw new ValidationError(`intervalMs must be positive, got ${intervalMs}`, 'intervalMs');
    if (this.#loop !== null) return;
    const loop: { stopped: boolean; timer: NodeJS.Timeout | undefined } = { stopped: false, timer: undefined };
    const run = (): void => {
      void this.#work()
        .catch((err: unknown) => this.#logger.error({ err: describeError(err) }, `${this.#what} failed`))
        .finally(() => {
          if (!loop.stopped) loop.timer = setTimeout(run, intervalMs);
        });
    };
    this.#loop = loop;
    run();
  }

  /** No further passes; one in progress is left to the owner to wait for. */
  stop(): void {
    if (this.#loop === null) return;
    this.#loop.stopped = true;
    clearTimeout(this.#loop.timer);
    this.#loop = null;
  }
}
