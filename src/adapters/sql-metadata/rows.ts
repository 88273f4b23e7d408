import type {
  AttemptFailure,
  AttemptRecord,
  CheckResultRecord,
  EventRecord,
  GaugeValue,
  MaterializationRecord,
  PartitionRun,
  PartitionStatus,
  RunRecord,
  StepRecord,
  StreamOffset,
} from '../../ports/metadata-store.ts';
import type { AttemptStatus, RunStatus, Severity, StepStatus } from '../../core/states.ts';

// Drivers disagree on column types: `pg` returns int8 as a string, PGlite as a number,
// both return timestamptz as a Date. These converters make the port see one shape.

type Json = Record<string, unknown>;
type Ts = Date | string;

const iso = (v: Ts): string => (v instanceof Date ? v : new Date(v)).toISOString();
const isoOrNull = (v: Ts | null): string | null => (v === null ? null : iso(v));

export interface RunRow {
  id: string;
  pipeline: string;
  partition: string | null;
  params: Json;
  status: string;
  created_at: Ts;
  started_at: Ts | null;
  finished_at: Ts | null;
  error: string | null;
  backfill_id: string | null;
  parent_run_id: string | null;
  root_run_id: string | null;
}

export const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  pipeline: r.pipeline,
  partition: r.partition,
  params: r.params,
  status: r.status as RunStatus,
  createdAt: iso(r.created_at),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
  error: r.error,
  backfillId: r.backfill_id,
  parentRunId: r.parent_run_id ?? null,
  rootRunId: r.root_run_id ?? null,
});

export interface StepRow {
  run_id: string;
  step: string;
  status: string;
  attempts: number | string;
  started_at: Ts | null;
  finished_at: Ts | null;
  rows_written: number | string;
  reason: string | null;
}

export const toStep = (r: StepRow): StepRecord => ({
  runId: r.run_id,
  step: r.step,
  status: r.status as StepStatus,
  attempts: Number(r.attempts),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
  rowsWritten: Number(r.rows_written),
  reason: r.reason,
});

export interface AttemptRow {
  id: string;
  run_id: string;
  step: string;
  attempt: number | string;
  status: string;
  started_at: Ts;
  finished_at: Ts | null;
  error: string | null;
  rows_written: number | string;
  failure: AttemptFailure | null;
}

export const toAttempt = (r: AttemptRow): AttemptRecord => ({
  id: r.id,
  runId: r.run_id,
  step: r.step,
  attempt: Number(r.attempt),
  status: r.status as AttemptStatus,
  startedAt: iso(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
  error: r.error,
  rowsWritten: Number(r.rows_written),
  failure: r.failure ?? null,
});

export interface EventRow {
  id: number | string;
  run_id: string;
  type: string;
  step: string | null;
  attempt_id: string | null;
  ts: Ts;
  payload: Json;
}

export const toEvent = (r: EventRow): EventRecord => ({
  id: Number(r.id),
  runId: r.run_id,
  type: r.type,
  step: r.step,
  attemptId: r.attempt_id,
  ts: iso(r.ts),
  payload: r.payload,
});

export interface MaterializationRow {
  run_id: string;
  step: string;
  asset: string;
  partition: string | null;
  rows: number | string;
  metadata: Json;
  ts: Ts;
}

export const toMaterialization = (r: MaterializationRow): MaterializationRecord => ({
  runId: r.run_id,
  step: r.step,
  asset: r.asset,
  partition: r.partition,
  rows: Number(r.rows),
  metadata: r.metadata,
  ts: iso(r.ts),
});

export interface CheckResultRow {
  run_id: string;
  step: string;
  asset: string;
  check_name: string;
  partition: string | null;
  severity: string;
  passed: boolean;
  message: string;
  value: number | null;
  ts: Ts;
}

export const toCheckResult = (r: CheckResultRow): CheckResultRecord => ({
  runId: r.run_id,
  step: r.step,
  asset: r.asset,
  check: r.check_name,
  partition: r.partition,
  severity: r.severity as Severity,
  passed: r.passed,
  message: r.message,
  value: r.value === null ? null : Number(r.value),
  ts: iso(r.ts),
});

export interface PartitionRow {
  partition: string;
  status: string;
  id: string;
  updated_at: Ts;
}

export const toPartition = (r: PartitionRow): PartitionStatus => ({
  partition: r.partition,
  status: r.status as RunStatus,
  runId: r.id,
  updatedAt: iso(r.updated_at),
});

export interface PartitionRunRow extends PartitionRow {
  /** jsonb: PGlite and pg both hand it back parsed. */
  steps: { step: string; status: string; reason: string | null }[];
}

export const toPartitionRun = (r: PartitionRunRow): PartitionRun => ({
  ...toPartition(r),
  steps: r.steps.map((s) => ({ step: s.step, status: s.status as StepStatus, reason: s.reason })),
});

export interface GaugeRow {
  kind: string;
  name: string;
  help: string;
  labels: Record<string, string>;
  value: number | string;
  updated_at: Ts;
}

export const toGauge = (r: GaugeRow): GaugeValue => ({
  kind: r.kind === 'counter' ? 'counter' : 'gauge',
  name: r.name,
  help: r.help,
  labels: r.labels,
  value: Number(r.value),
  updatedAt: iso(r.updated_at),
});

export interface StreamOffsetRow {
  stream: string;
  topic: string;
  partition: number;
  next_offset: number | string;
  pending_end: number | string | null;
  run_id: string;
  updated_at: Ts;
}

export const toStreamOffset = (r: StreamOffsetRow): StreamOffset => ({
  stream: r.stream,
  topic: r.topic,
  partition: Number(r.partition),
  offset: Number(r.next_offset),
  pendingEnd: r.pending_end === null ? null : Number(r.pending_end),
  runId: r.run_id,
  updatedAt: iso(r.updated_at),
});
