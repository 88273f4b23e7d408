import { sleep } from 'sluice';

/**
 * Request weight for one exchange client, kept under the server's limit by what the server
 * itself reports: every answer's `X-MBX-USED-WEIGHT-*` header says how much of the window is
 * used; a request waits when it would take the window past `target` (a share of the limit,
 * leaving room for other clients of the same IP), and after a 429 nothing is sent until its
 * Retry-After has passed, so a 418 (ban) cannot follow.
 */
export class WeightBudget {
  readonly #windowMs: number;
  readonly #target: number;
  readonly #now: () => number;
  #window = -1;
  #used = 0;
  #inFlight = 0;
  #pausedUntil = 0;
  /** The highest weight the server reported in a window, and the 429/418 answers seen. */
  readonly usage = { peak: 0, limited: 0 };

  constructor(o: { limit: number; windowMs: number; share?: number; now?: () => number }) {
    this.#windowMs = o.windowMs;
    this.#target = Math.floor(o.limit * (o.share ?? 0.9));
    this.#now = o.now ?? Date.now;
  }

  /** Waits until `weight` fits the window, then holds it until `settle`. */
  async acquire(weight: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#now();
      this.#roll(now);
      if (now >= this.#pausedUntil && this.#used + this.#inFlight + weight <= Math.max(this.#target, weight)) {
        this.#inFlight += weight;
        return;
      }
      const until = now < this.#pausedUntil ? this.#pausedUntil : (this.#window + 1) * this.#windowMs;
      await sleep(Math.max(10, until - now), signal);
    }
  }

  /** The answer to a request acquired with `weight`: its status and the server's count. */
  settle(weight: number, status: number, usedHeader: string | undefined, retryAfterS: string | undefined): void {
    this.#inFlight -= weight;
    const now = this.#now();
    this.#roll(now);
    const used = Number(usedHeader);
    if (Number.isFinite(used)) this.#used = Math.max(this.#used, used);
    this.usage.peak = Math.max(this.usage.peak, this.#used);
    if (status === 429 || status === 418) {
      this.usage.limited++;
      const after = Number(retryAfterS);
      this.#pausedUntil = Math.max(this.#pausedUntil, now + (Number.isFinite(after) && after > 0 ? after * 1000 : this.#windowMs));
    }
  }

  #roll(now: number): void {
    const w = Math.floor(now / this.#windowMs);
    if (w !== this.#window) {
      this.#window = w;
      this.#used = 0;
    }
  }
}
