import { describeError } from '../core/errors.ts';
import type {
  AttemptRecord, CheckResultRecord, MaterializationRecord, MetadataStore, NewEvent, RunChange, StepRecord, StreamOffset,
} from '../ports/metadata-store.ts';
import type { RunUpdate } from './run-updates.ts';
import type { Logger } from './services.ts';

/**
 * The coordinator's writes to the metadata store, batched: run status changes, attempts,
 * steps, events and the materializations and check results they report, buffered by one
 * operation, go out in one transaction (one commit per handled event, not one per row), so
 * a run's final status and its `run.*` event are stored together or not at all. Live updates are held until
 * the write they describe is done, so a watcher woken by an update always finds it in the
 * store. Flushes run one at a time, in order.
 */
export class WriteBuffer {
  #runs = new Map<string, RunChange>();
  #attempts = new Map<string, AttemptRecord>();
  #steps = new Map<string, StepRecord>();
  #events: NewEvent[] = [];
  #materializations: MaterializationRecord[] = [];
  #checks: CheckResultRecord[] = [];
  #offsets = new Map<string, StreamOffset>();
  readonly #held: RunUpdate[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #scheduled = false;
  readonly #store: MetadataStore;
  readonly #logger: Logger;
  readonly #emit: (u: RunUpdate) => void;

  constructor(store: MetadataStore, logger: Logger, emit: (u: RunUpdate) => void) {
    this.#store = store;
    this.#logger = logger;
    this.#emit = emit;
  }

  /** Changes to one run buffered together merge, the later field winning. */
  run(change: RunChange): void {
    this.#runs.set(change.id, { ...this.#runs.get(change.id), ...change });
  }

  attempt(a: AttemptRecord): void {
    this.#attempts.set(a.id, a);
  }

  step(s: StepRecord): void {
    this.#steps.set(`${s.runId}\u0000${s.step}`, s);
  }

  event(e: NewEvent): void {
    this.#events.push(e);
  }

  materialization(m: MaterializationRecord): void {
    this.#materializations.push(m);
  }

  checkResult(c: CheckResultRecord): void {
    this.#checks.push(c);
  }

  /** A stream's position; a later one for the same partition replaces it. */
  offset(o: StreamOffset): void {
    this.#offsets.set(`${o.stream}\u0000${o.topic}\u0000${o.partition}`, o);
  }

  /** Released to listeners after the next flush. */
  notify(u: RunUpdate): void {
    this.#held.push(u);
  }

  flush(): Promise<void> {
    const next = this.#flushing.then(async () => {
      const runs = [...this.#runs.values()];
      const attempts = [...this.#attempts.values()];
      const steps = [...this.#steps.values()];
      const events = this.#events;
      const materializations = this.#materializations;
      const checks = this.#checks;
      const offsets = [...this.#offsets.values()];
      const held = this.#held.splice(0);
      this.#runs = new Map();
      this.#attempts = new Map();
      this.#steps = new Map();
      this.#events = [];
      this.#materializations = [];
      this.#checks = [];
      this.#offsets = new Map();
      const n = runs.length + attempts.length + steps.length + events.length + materializations.length + checks.length + offsets.length;
      if (n > 0) await this.#store.write({ runs, attempts, steps, events, materializations, checks, offsets });
      for (const u of held) this.#emit(u);
    });
    this.#flushing = next.catch((err) => this.#logger.error({ err: describeError(err) }, 'metadata write failed'));
    return next;
  }

  /**
   * A flush on the next turn of the event loop: work that arrives together shares one
   * transaction. Used where losing the tail in a crash is safe (see the coordinator).
   */
  flushSoon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.flush().catch(() => undefined);
    });
  }
}
