/** A depth diff event as the exchange sends it (`depthUpdate`); `pu` on USD-M futures only. */
export interface DepthEvent {
  readonly U: number;
  readonly u: number;
  readonly pu?: number;
  readonly b: readonly (readonly [string, string])[];
  readonly a: readonly (readonly [string, string])[];
}

export interface DepthSnapshot {
  readonly lastUpdateId: number;
  readonly bids: readonly (readonly [string, string])[];
  readonly asks: readonly (readonly [string, string])[];
}

/** What the book did with an event. */
export type BookOutcome = 'buffered' | 'applied' | 'dropped' | 'resync';

/** Events kept while waiting for a snapshot; a stream that outruns it this far resyncs. */
const MAX_BUFFERED = 10_000;

/**
 * A local order book kept by the exchange's rules. Before a snapshot, events are buffered;
 * the snapshot is then joined to them — spot: the first applied event has
 * `U <= lastUpdateId + 1 <= u`; USD-M futures: events with `u < lastUpdateId` are dropped and
 * the first has `U <= lastUpdateId <= u`. After that, spot events must continue at
 * `U = previous u + 1`, futures events must carry `pu = previous u`. Anything else is a gap:
 * the book says `resync` and waits for a new snapshot — never a silently wrong book.
 */
export class OrderBook {
  readonly market: 'spot' | 'futures';
  readonly #bids = new Map<string, string>();
  readonly #asks = new Map<string, string>();
  #buffer: DepthEvent[] = [];
  #lastUpdateId = -1;
  #live = false;
  /** Resyncs so far, and the reason of the last. */
  resyncs = 0;
  lastResync = '';

  constructor(market: 'spot' | 'futures') {
    this.market = market;
  }

  get live(): boolean {
    return this.#live;
  }

  get lastUpdateId(): number {
    return this.#lastUpdateId;
  }

  /** Whether a snapshot is needed now (start, or after a gap). */
  get needsSnapshot(): boolean {
    return !this.#live;
  }

  onEvent(e: DepthEvent): BookOutcome {
    if (!this.#live) {
      if (this.#buffer.length >= MAX_BUFFERED) this.#buffer.shift();
      this.#buffer.push(e);
      return 'buffered';
    }
    if (this.market === 'spot') {
      if (e.u <= this.#lastUpdateId) return 'dropped';
      if (e.U !== this.#lastUpdateId + 1) return this.#gap(`event U ${e.U} after u ${this.#lastUpdateId}`, e);
    } else {
      if (e.u < this.#lastUpdateId) return 'dropped';
      if (e.pu !== this.#lastUpdateId) return this.#gap(`event pu ${e.pu} is not the previous u ${this.#lastUpdateId}`, e);
    }
    this.#apply(e);
    return 'applied';
  }

  /**
   * Joins a snapshot to the buffered events. Returns false when the snapshot is older than
   * the buffer's first event (ask for another) or no buffered event continues it.
   */
  onSnapshot(s: DepthSnapshot): boolean {
    const first = this.#buffer[0];
    if (first && s.lastUpdateId + (this.market === 'spot' ? 1 : 0) < first.U) return false;
    this.#bids.clear();
    this.#asks.clear();
    for (const [p, q] of s.bids) this.#bids.set(p, q);
    for (const [p, q] of s.asks) this.#asks.set(p, q);
    this.#lastUpdateId = s.lastUpdateId;
    const target = this.market === 'spot' ? s.lastUpdateId + 1 : s.lastUpdateId;
    const pending = this.#buffer.filter((e) => (this.market === 'spot' ? e.u > s.lastUpdateId : e.u >= s.lastUpdateId));
    this.#buffer = [];
    const [head, ...rest] = pending;
    if (head) {
      if (!(head.U <= target && head.u >= target)) {
        this.#buffer = pending;
        return false;
      }
      this.#apply(head);
    }
    this.#live = true;
    for (const e of rest) if (this.onEvent(e) === 'resync') return false;
    return true;
  }

  /** The best `n` levels of each side: bids highest first, asks lowest first. */
  top(n: number): { bids: [string, string][]; asks: [string, string][] } {
    const side = (m: Map<string, string>, desc: boolean) => [...m.entries()].sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]))).slice(0, n);
    return { bids: side(this.#bids, true), asks: side(this.#asks, false) };
  }

  #apply(e: DepthEvent): void {
    for (const [p, q] of e.b) if (Number(q) === 0) this.#bids.delete(p); else this.#bids.set(p, q);
    for (const [p, q] of e.a) if (Number(q) === 0) this.#asks.delete(p); else this.#asks.set(p, q);
    this.#lastUpdateId = e.u;
  }

  #gap(reason: string, e: DepthEvent): BookOutcome {
    this.resyncs++;
    this.lastResync = reason;
    this.#live = false;
    // The event that revealed the gap starts the next buffer.
    this.#buffer = [e];
    return 'resync';
  }
}
