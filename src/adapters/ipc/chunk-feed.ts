/**
 * The parent's end of a streamed insert: chunks pushed as they arrive from the child,
 * pulled by the warehouse's insert as an async iterable. Each pull hands one credit back
 * to the child (`onPulled`), so no more than the child's window ever waits here.
 */
export class ChunkFeed implements AsyncIterable<string> {
  readonly #queue: string[] = [];
  readonly #onPulled: () => void;
  #done = false;
  #error: unknown = null;
  #cancelled = false;
  #wake: (() => void) | null = null;
  /** The most chunks that ever waited here at once. */
  peak = 0;

  constructor(onPulled: () => void) {
    this.#onPulled = onPulled;
  }

  push(data: string): void {
    if (this.#done || this.#cancelled) return;
    this.#queue.push(data);
    if (this.#queue.length > this.peak) this.peak = this.#queue.length;
    this.#poke();
  }

  end(): void {
    this.#done = true;
    this.#poke();
  }

  /** The source failed or went away: the insert sees this error instead of an end. */
  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#queue.length = 0;
    this.#poke();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    try {
      for (;;) {
        const next = this.#queue.shift();
        if (next !== undefined) {
          this.#onPulled();
          yield next;
          continue;
        }
        if (this.#error !== null) throw this.#error;
        if (this.#done) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      // The consumer stopped early (its insert failed): later chunks are dropped.
      this.#cancelled = true;
      this.#queue.length = 0;
    }
  }
}
