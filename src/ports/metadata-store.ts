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

export interface WriteBatch {
  readonly attempts?: readonly AttemptRecord[];
  readonly steps?: readonly StepRecord[];
  readonly events?: readonly NewEvent[];
  /**
   * In the same transaction as the events that report them: a crash loses both or neither,
   * so an event applied again after a restart never leaves its result twice.
   */
  readonly materializations?: readonly MaterializationRecord[];
  readonly checks?: readonly CheckResultRecord[];
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
 * Where runs, attempts, events, materializations, check results, checkpoints and the
 * latest gauge values live. One SQL schema serves PGlite and PostgreSQL.
 */
export interface MetadataStore {
  /** API tokens, in the same database. */
  readonly tokens: TokenStore;
  /** Schedule ticks and states, and run-history pruning, in the same database. */
  readonly schedules: ScheduleStore;
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  createRun(run: NewRun): Promise<RunRecord>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  getRun(id: string): Promise<RunDetail | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Insert or replace the step row keyed by (runId, step). */
  upsertStep(step: StepRecord): Promise<void>;
  /** Insert or replace the attempt row keyed by id. */
  upsertAttempt(attempt: AttemptRecord): Promise<void>;
  appendEvent(event: NewEvent): Promise<EventRecord>;
  /** Attempts, steps, events, materializations and check results written atomically, in that order; returns the events as stored. */
  writeBatch(batch: WriteBatch): Promise<EventRecord[]>;
  listEvents(filter?: EventFilter): Promise<EventRecord[]>;
  recordMaterialization(m: MaterializationRecord): Promise<void>;
  recordCheckResult(c: CheckResultRecord): Promise<void>;
  assetHistory(filter?: AssetHistoryFilter): Promise<AssetHistory>;
  /** The newest materialization of each of these assets that has one (any partition, any run). */
  latestMaterializations(assets: readonly string[]): Promise<MaterializationRecord[]>;
  listPartitions(pipeline: string): Promise<PartitionStatus[]>;
  getCheckpoint(key: string): Promise<unknown>;
  putCheckpoint(key: string, value: unknown): Promise<void>;
  /** Upsert by (name, labels); counters are stored as their totals. */
  putGauges(values: readonly GaugeValue[]): Promise<void>;
  listGauges(): Promise<GaugeValue[]>;
  /** Closes what the store created; an injected client is left open. */
  close(): Promise<void>;
}
