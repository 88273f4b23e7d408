/** What the limiter says about one request. */
export type WeightDecision =
  | { readonly kind: 'ok'; readonly used: number }
  | { readonly kind: 'limited'; readonly used: number; readonly retryAfterS: number }
  | { readonly kind: 'banned'; readonly used: number; readonly retryAfterS: number };

/**
 * The exchange's request-weight rule, per client IP: weights add up in a fixed window (a
 * minute on the exchange, aligned to the clock); a request that would pass the limit gets a
 * 429 with Retry-After (the window's end) and counts nothing; a client that sends again
 * before that Retry-After is banned (418) for `banS`, doubled for each repeat offence.
 */
export class WeightLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #banMs: number;
  readonly #now: () => number;
  readonly #clients = new Map<string, { window: number; used: number; retryAt: number; bannedUntil: number; bans: number }>();

  constructor(o: { limit: number; windowS: number; banS?: number; now?: () => number }) {
    this.#limit = o.limit;
    this.#windowMs = o.windowS * 1000;
    this.#banMs = (o.banS ?? Math.max(2 * o.windowS, 120)) * 1000;
    this.#now = o.now ?? Date.now;
  }

  /** Weight used in the current window by `client`, for the X-MBX-USED-WEIGHT header. */
  used(client: string): number {
    const c = this.#clients.get(client);
    return c && c.window === this.#window() ? c.used : 0;
  }

  take(client: string, weight: number): WeightDecision {
    const now = this.#now();
    const window = this.#window();
    let c = this.#clients.get(client);
    if (!c) {
      // Bounded: one entry per client address; loopback tests have a handful.
      if (this.#clients.size > 10_000) this.#clients.clear();
      c = { window, used: 0, retryAt: 0, bannedUntil: 0, bans: 0 };
      this.#clients.set(client, c);
    }
    if (c.window !== window) Object.assign(c, { window, used: 0 });
    if (now < c.bannedUntil) return { kind: 'banned', used: c.used, retryAfterS: Math.ceil((c.bannedUntil - now) / 1000) };
    if (now < c.retryAt) {
      c.bannedUntil = now + this.#banMs * 2 ** c.bans++;
      return { kind: 'banned', used: c.used, retryAfterS: Math.ceil((c.bannedUntil - now) / 1000) };
    }
    if (c.used + weight > this.#limit) {
      c.retryAt = (window + 1) * this.#windowMs;
      return { kind: 'limited', used: c.used, retryAfterS: Math.max(1, Math.ceil((c.retryAt - now) / 1000)) };
    }
    c.used += weight;
    return { kind: 'ok', used: c.used };
  }

  #window(): number {
    return Math.floor(this.#now() / this.#windowMs);
  }
}
