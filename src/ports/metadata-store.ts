import type { FailureDetail } from '../core/failure.ts';
import type { AttemptStatus, RunStatus, Severity, StepStatus } from '../core/states.ts';
import type { ScheduleStore } from './schedule-store.ts';
import type { TokenStore } from './token-store.ts';

/** Timestamps are ISO-8601 strings in UTC throughout the port. */
export interface RunRecord {
  readonly id: string;
  readonly pipeline: string;
  readonly partition: string | null;
  readonly params: Record<string, unknown>;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  /** Set when the run belongs to a backfill. */
  readonly backfillId: string | null;
  /** The run this one retried (`POST /runs/{id}/retry`); null for a run started afresh. */
  readonly parentRunId: string | null;
  /** The first run of the chain of retries this one belongs to; null for a run started afresh. */
  readonly rootRunId: string | null;
}

export type NewRun = Pick<RunRecord, 'id' | 'pipeline' | 'partition' | 'params'> &
  Partial<Pick<RunRecord, 'status' | 'backfillId' | 'createdAt' | 'parentRunId' | 'rootRunId'>>;

export type RunPatch = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'finishedAt' | 'error'>>;

export interface StepRecord {
  readonly runId: string;
  readonly step: string;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly rowsWritten: number;
  /** Why the step failed or was skipped. */
  readonly reason: string | null;
}

/** Why an attempt failed (class, message, stack, the pipeline's line) and why it was not retried. */
export interface AttemptFailure extends FailureDetail {
  /** Set when the step failed for good: why no retry followed (`…, retry policy allows 2 attempts`). */
  readonly notRetried: string | null;
}

export interface AttemptRecord {
  readonly id: string;
  readonly runId: string;
  readonly step: string;
  readonly attempt: number;
  readonly status: AttemptStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The one-line message; `failure` has the detail. */
  readonly error: string | null;
  readonly rowsWritten: number;
  /** Stored as given; read back as null when there is none. */
  readonly failure?: AttemptFailure | null;
}

export interface RunDetail {
  readonly run: RunRecord;
  /** In the order the steps were first recorded. */
  readonly steps: StepRecord[];
  /** Ordered by step, then attempt number. */
  readonly attempts: AttemptRecord[];
}

export interface RunFilter {
  readonly pipeline?: string;
  readonly status?: RunStatus;
  readonly partition?: string;
  readonly backfillId?: string;
  /** Only runs created at or after this instant. */
  readonly createdFrom?: string;
  /** Only runs created strictly before this instant. */
  readonly createdTo?: string;
  /** Newest first; at most this many (default 50). */
  readonly limit?: number;
  /** Keyset pagination: only runs created strictly before this (createdAt, id) pair. */
  readonly before?: { createdAt: string; id: string };
}

/** Runs created in [from, to), counted per status in buckets of `bucketMs` from `from`. */
export interface RunCountFilter {
  readonly from: string;
  readonly to: string;
  readonly bucketMs: number;
  readonly pipeline?: string;
}

export interface RunCount {
  /** 0 for the bucket that starts at `from`, 1 for the next, … */
  readonly bucket: number;
  readonly status: RunStatus;
  readonly count: number;
}

export interface NewEvent {
  readonly runId: string;
  readonly type: string;
  readonly step: string | null;
  readonly attemptId: string | null;
  readonly ts: string;
  readonly payload: Record<string, unknown>;
}

/** `id` is assigned by the store and increases across all runs. */
export interface EventRecord extends NewEvent {
  readonly id: number;
}

/** A change to a run already created: its id and the fields that change. */
export type RunChange = RunPatch & { readonly id: string };

export interface WriteBatch {
  /** Fails the whole batch (NotFoundError) when a run does not exist. */
  readonly runs?: readonly RunChange[];
  readonly attempts?: readonly AttemptRecord[];
  readonly steps?: readonly StepRecord[];
  readonly events?: readonly NewEvent[];
  /**
   * In the same transaction as the events that report them: a crash loses both or neither,
   * so an event applied again after a restart never leaves its result twice.
   */
  readonly materializations?: readonly MaterializationRecord[];
  readonly checks?: readonly CheckResultRecord[];
  /** Streams' committed positions, upserted by (stream, topic, partition). */
  readonly offsets?: readonly StreamOffset[];
}

export interface EventFilter {
  readonly runId?: string;
  /** Only events with id greater than this. */
  readonly afterId?: number;
  readonly limit?: number;
  /** Highest ids first (`limit: 1` gives the latest event); oldest first otherwise. */
  readonly newestFirst?: boolean;
}

export interface MaterializationRecord {
  readonly runId: string;
  readonly step: string;
  readonly asset: string;
  readonly partition: string | null;
  readonly rows: number;
  readonly metadata: Record<string, unknown>;
  readonly ts: string;
}

export interface CheckResultRecord {
  readonly runId: string;
  readonly step: string;
  readonly asset: string;
  readonly check: string;
  readonly partition: string | null;
  readonly severity: Severity;
  readonly passed: boolean;
  readonly message: string;
  readonly value: number | null;
  readonly ts: string;
}

export interface AssetHistoryFilter {
  readonly asset?: string;
  readonly partition?: string;
  readonly runId?: string;
  readonly limit?: number;
}

export interface AssetHistory {
  /** Newest first. */
  readonly materializations: MaterializationRecord[];
  /** Newest first. */
  readonly checks: CheckResultRecord[];
}

/** The latest run of each partition of a pipeline. */
export interface PartitionStatus {
  readonly partition: string;
  readonly status: RunStatus;
  readonly runId: string;
  readonly updatedAt: string;
}

/** A partition's latest run with its steps' statuses (a row of the partition grid). */
export interface PartitionRun extends PartitionStatus {
  /** In the order the run recorded them. */
  readonly steps: { readonly step: string; readonly status: StepStatus; readonly reason: string | null }[];
}

/** A metric value kept across restarts: a gauge's latest value, or a counter's total. */
export interface GaugeValue {
  /** `gauge` when left out. */
  readonly kind?: 'gauge' | 'counter';
  readonly name: string;
  readonly help: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly updatedAt: string;
}

/**
 * Where a stream (a pipeline's stream step, `pipeline.step`) stands on one partition of a
 * topic it reads: `offset` is the next record it has not written yet. `pendingEnd`, when
 * set, says a batch `[offset, pendingEnd)` was being written when this was saved: a restart
 * writes exactly that batch again (with the same deduplication token) before anything else.
 */
export interface StreamOffset {
  readonly stream: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly pendingEnd: number | null;
  /** The run that saved it. */
  readonly runId: string;
  readonly updatedAt: string;
}

/** Streams' committed positions; written through `MetadataStore.write`. */
export interface StreamOffsetStore {
  /** Every position of the stream (all streams' when left out), by stream, topic, partition. */
  list(stream?: string): Promise<StreamOffset[]>;
}

/** Runs with their steps, attempts and events, as the control plane recorded them. */
export interface RunHistory {
  /** Admits a run; a run with the same id is a ConflictError. Later changes go through `write`. */
  create(run: NewRun): Promise<RunRecord>;
  get(id: string): Promise<RunDetail | undefined>;
  list(filter?: RunFilter): Promise<RunRecord[]>;
  /** How many runs were created per bucket of time and status; empty buckets are left out. */
  counts(filter: RunCountFilter): Promise<RunCount[]>;
  /** The latest run of each partition of a pipeline, oldest key first. */
  partitions(pipeline: string): Promise<PartitionStatus[]>;
  /** The same for the keys from..to (inclusive) only, with each run's steps. */
  partitionRuns(pipeline: string, from: string, to: string): Promise<PartitionRun[]>;
  events(filter?: EventFilter): Promise<EventRecord[]>;
}

/** What the runs materialized and what their checks found, per asset. */
export interface AssetCatalog {
  history(filter?: AssetHistoryFilter): Promise<AssetHistory>;
  /** The newest materialization of each of these assets that has one (any partition, any run). */
  latest(assets: readonly string[]): Promise<MaterializationRecord[]>;
}

/** Metric values kept across restarts. */
export interface GaugeStore {
  /** Upsert by (name, labels); counters are stored as their totals. */
  put(values: readonly GaugeValue[]): Promise<void>;
  list(): Promise<GaugeValue[]>;
}

/**
 * Where runs, attempts, events, materializations, check results and the latest metric
 * values live. One SQL schema serves PGlite and PostgreSQL. Reads go through the histories;
 * every change after a run is created goes through `write`, in one transaction per batch.
 */
export interface MetadataStore {
  readonly runs: RunHistory;
  readonly assets: AssetCatalog;
  readonly gauges: GaugeStore;
  /** Streams' committed positions, in the same database. */
  readonly streams: StreamOffsetStore;
  /** API tokens, in the same database. */
  readonly tokens: TokenStore;
  /** Schedule ticks and states, and run-history pruning, in the same database. */
  readonly schedules: ScheduleStore;
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /** Runs, attempts, steps, events, materializations, check results and stream offsets, atomically and in that order; returns the events as stored. */
  write(batch: WriteBatch): Promise<EventRecord[]>;
  /**
   * Makes this store's process the leader of its database: takes the next leader epoch, so
   * every `write` of a store that claimed earlier fails with FencedError from now on (and so
   * do this one's, once another claims). `onFenced` hears of the first such failure: the
   * process must stop acting. Returns the epoch.
   */
  claimLeadership(onFenced: (err: Error) => void): Promise<number>;
  /** Closes what the store created; an injected client is left open. */
  close(): Promise<void>;
}
