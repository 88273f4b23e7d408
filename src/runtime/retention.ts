import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ValidationError } from '../core/errors.ts';
import type { ScheduleStore } from '../ports/schedule-store.ts';
import { Periodic } from './periodic.ts';
import type { Logger } from './services.ts';

export interface RetentionOptions {
  readonly store: Pick<ScheduleStore, 'pruneHistory'>;
  /** Finished runs older than this are deleted with their steps, attempts, events and results. */
  readonly maxAgeMs: number;
  /** Runs deleted per statement; smaller batches mean shorter locks. */
  readonly batchSize: number;
  readonly clock: { now(): Date };
  readonly logger: Logger;
}

/**
 * Deletes old run history in small batches, giving the event loop a turn between
 * batches so API requests are served while a large backlog is pruned.
 */
export class RetentionPruner {
  readonly #options: RetentionOptions;
  readonly #loop: Periodic;
  #current: Promise<number> | null = null;
  #halting = false;

  constructor(options: RetentionOptions) {
    if (!(options.maxAgeMs > 0)) throw new ValidationError(`maxAgeMs must be positive, got ${options.maxAgeMs}`, 'maxAgeMs');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new ValidationError(`batchSize must be a positive integer, got ${options.batchSize}`, 'batchSize');
    }
    this.#options = options;
    this.#loop = new Periodic(() => this.pruneOnce(), options.logger, 'run history pruning');
  }

  /** Prunes now, then every `intervalMs`; passes never overlap. */
  start(intervalMs: number): void {
    this.#loop.start(intervalMs);
  }

  /** Stops the loop; a pass in progress finishes its current batch and stops. */
  async stop(): Promise<void> {
    this.#loop.stop();
    this.#halting = true;
    try {
      await this.#current?.catch(() => undefined);
    } finally {
      this.#halting = false;
    }
  }

  /** Deletes everything older than the cutoff, batch by batch; returns how many runs went. */
  pruneOnce(): Promise<number> {
    this.#current ??= this.#prune().finally(() => {
      this.#current = null;
    });
    return this.#current;
  }

  async #prune(): Promise<number> {
    const { store, maxAgeMs, batchSize, clock, logger } = this.#options;
    const before = new Date(clock.now().getTime() - maxAgeMs).toISOString();
    let total = 0;
    for (;;) {
      const deleted = await store.pruneHistory(before, batchSize);
      total += deleted;
      if (deleted < batchSize || this.#halting) break;
      await yieldToEventLoop();
    }
    if (total > 0) logger.info({ deleted: total, before }, 'pruned old runs');
    return total;
  }
}
