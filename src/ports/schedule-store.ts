/** Timestamps are ISO-8601 strings in UTC throughout the port. */

/** One tick of one schedule: the instant its cron matched. */
export interface TickKey {
  readonly pipeline: string;
  readonly schedule: string;
  readonly tickAt: string;
}

/**
 * `claimed`: someone owns the tick but has not reported a result (it crashed, or the
 * submit failed in a way worth retrying); the others are final.
 */
export type TickStatus = 'claimed' | 'submitted' | 'skipped' | 'failed';

export interface NewTick extends TickKey {
  /** Decided at claim time, so whoever retries the tick submits the same run. */
  readonly runId: string;
  readonly partition: string | null;
  /** The claimer's clock, so retry delays follow the same clock that computed the tick. */
  readonly claimedAt: string;
}

export interface TickRecord extends NewTick {
  readonly status: TickStatus;
  /** Why a tick was skipped or failed. */
  readonly reason: string | null;
  readonly finishedAt: string | null;
}

export type TickOutcome =
  | { readonly status: 'submitted' }
  | { readonly status: 'skipped' | 'failed'; readonly reason: string };

export interface ScheduleState {
  readonly pipeline: string;
  readonly schedule: string;
  /** True unless someone disabled it. */
  readonly enabled: boolean;
  /** Every tick at or before this instant has been evaluated; null until a scheduler first sees it. */
  readonly evaluatedThrough: string | null;
  /** The most recent claimed tick, whatever became of it. */
  readonly lastTick: TickRecord | null;
}

export interface TickFilter {
  readonly pipeline?: string;
  readonly schedule?: string;
  readonly status?: TickStatus;
  /** Newest tick first; at most this many (default 50). */
  readonly limit?: number;
}

/**
 * What the scheduler persists so that a restart neither misses nor double-fires a tick,
 * and several schedulers can share one database; plus pruning of old run history.
 */
export interface ScheduleStore {
  /**
   * Records the tick unless it is already recorded. Returns true when this caller won it
   * and must submit it; atomic across processes sharing the store.
   */
  claimTick(tick: NewTick): Promise<boolean>;
  /** Records the result of a claimed tick; a tick that is already final is left alone. */
  finishTick(key: TickKey, outcome: TickOutcome, at: string): Promise<void>;
  /** Ticks still `claimed` that were claimed at or before `claimedBefore`, oldest tick first. */
  pendingTicks(claimedBefore: string, limit?: number): Promise<TickRecord[]>;
  /** Moves the schedule's evaluated-through instant forward (never back); creates the state if missing. */
  advance(pipeline: string, schedule: string, through: string): Promise<void>;
  /** Schedules are enabled until this says otherwise. */
  setEnabled(pipeline: string, schedule: string, enabled: boolean): Promise<void>;
  /** Every schedule with recorded state, ordered by pipeline and schedule. */
  listSchedules(pipeline?: string): Promise<ScheduleState[]>;
  listTicks(filter?: TickFilter): Promise<TickRecord[]>;
  /**
   * Deletes one batch of at most `batchSize` finished runs (succeeded, failed or
   * cancelled) whose finish time, or creation time when it has none, is before `before`,
   * with their steps, attempts, events, materializations and check results; also up to
   * `batchSize` final ticks before `before`. Runs that have not finished are kept however
   * old they are. Returns how many runs were deleted.
   */
  pruneHistory(before: string, batchSize: number): Promise<number>;
}
