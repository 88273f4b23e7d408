export interface HealthOptions {
  /** How often attempts send heartbeats. */
  readonly heartbeatMs: number;
  /** Heartbeats that may be missed before an attempt counts as lost (default 3). */
  readonly missedHeartbeats: number;
  /** How long a dispatched attempt may wait for a worker to start it. */
  readonly startTimeoutMs: number;
  /** How often to look (default: a third of the heartbeat interval, at most 1 s). */
  readonly checkEveryMs?: number;
  readonly now?: () => number;
  /** Told, at every look, how many attempts are being watched. */
  readonly report?: (inFlight: number) => void;
}

/**
 * Notices attempts that went silent: every event of an attempt counts as a sign of life;
 * an attempt not heard of within `missedHeartbeats` intervals (or, before it started,
 * within `startTimeoutMs`) is reported lost, once.
 */
export class HealthMonitor {
  readonly #opts: HealthOptions;
  readonly #seen = new Map<string, { at: number; started: boolean }>();
  readonly #onLost: (attemptId: string, silentMs: number) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: HealthOptions, onLost: (attemptId: string, silentMs: number) => void) {
    this.#opts = opts;
    this.#onLost = onLost;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  track(attemptId: string, started = false): void {
    this.#seen.set(attemptId, { at: this.#now(), started });
  }

  /** A sign of life; `started` once the worker said it began. */
  seen(attemptId: string, started = false): void {
    const s = this.#seen.get(attemptId);
    if (s) {
      s.at = this.#now();
      s.started ||= started;
    }
  }

  untrack(attemptId: string): void {
    this.#seen.delete(attemptId);
  }

  /** Reports every attempt past its deadline; returns how many. */
  check(): number {
    const now = this.#now();
    const lost: [string, number][] = [];
    for (const [id, s] of this.#seen) {
      const limit = s.started ? this.#opts.heartbeatMs * this.#opts.missedHeartbeats : this.#opts.startTimeoutMs;
      if (now - s.at > limit) lost.push([id, now - s.at]);
    }
    for (const [id, silent] of lost) {
      this.#seen.delete(id);
      this.#onLost(id, silent);
    }
    this.#opts.report?.(this.#seen.size);
    return lost.length;
  }

  start(): void {
    const every = this.#opts.checkEveryMs ?? Math.min(1000, Math.max(50, Math.floor(this.#opts.heartbeatMs / 3)));
    this.#timer = setInterval(() => this.check(), every);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
