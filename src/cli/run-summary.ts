import { boundMessage } from '../core/errors.ts';
import type { CheckResultRecord, MaterializationRecord, RunDetail } from '../ports/metadata-store.ts';

/** Why a step failed for good: its last attempt's error, where it was thrown, why no retry followed. */
export interface StepFailure {
  name: string;
  message: string;
  /** The pipeline's `path:line:column`, when the error came from its code. */
  frame: string | null;
  stack: string | null;
  notRetried: string | null;
}

export interface RunSummary {
  runId: string;
  pipeline: string;
  partition: string | null;
  status: string;
  error: string | null;
  /** The run this one retried, and the first of that chain of retries; null for a fresh run. */
  parentRunId: string | null;
  rootRunId: string | null;
  durationMs: number | null;
  rowsWritten: number;
  quarantined: number;
  steps: {
    name: string;
    status: string;
    attempts: number;
    durationMs: number | null;
    rowsWritten: number;
    reason: string | null;
    failure: StepFailure | null;
    /** How the lines a load read add up, e.g. `3,109 lines read = 1 header + 3,107 loaded + 1 quarantined`. */
    reconciliation: string | null;
    materializations: { asset: string; rows: number; metadata: Record<string, unknown> }[];
    checks: { asset: string; check: string; severity: string; passed: boolean; value: number | null; message: string }[];
  }[];
}

const span = (a: string | null, b: string | null) => (a && b ? Date.parse(b) - Date.parse(a) : null);

const PARTS: [key: string, label: string, always: boolean][] = [
  ['headerLines', 'header', true], ['loaded', 'loaded', true], ['quarantined', 'quarantined', true],
  ['otherPartitions', 'other partitions', false], ['blankLines', 'blank', false], ['continuationLines', 'continuation lines', false],
];

/** A load's `metadata.reconciliation` as one line, or null when the metadata has none. */
export function reconciliationText(metadata: Record<string, unknown>): string | null {
  const r = metadata.reconciliation as Record<string, unknown> | undefined;
  if (typeof r?.linesRead !== 'number') return null;
  const n = (k: string) => Number(r[k] ?? 0);
  const parts = PARTS.filter(([k, , always]) => always || n(k) !== 0).map(([k, label]) => `${n(k).toLocaleString('en-US')} ${label}`);
  return `${r.linesRead.toLocaleString('en-US')} lines read = ${parts.join(' + ')}`;
}

function stepFailure(detail: RunDetail, step: string): StepFailure | null {
  const f = detail.attempts.filter((a) => a.step === step).at(-1)?.failure;
  return f ? { name: f.name, message: f.message, frame: f.frame, stack: f.stack, notRetried: f.notRetried } : null;
}

/** The `--json` shape of a run: stable, documented in the README. */
export function summarizeRun(detail: RunDetail, mats: readonly MaterializationRecord[], checks: readonly CheckResultRecord[]): RunSummary {
  const { run } = detail;
  const steps = detail.steps.map((s) => ({
    name: s.step,
    status: s.status,
    attempts: s.attempts,
    durationMs: span(s.startedAt, s.finishedAt),
    rowsWritten: s.rowsWritten,
    reconciliation: mats.filter((m) => m.step === s.step).map((m) => reconciliationText(m.metadata)).find((t) => t !== null) ?? null,
    // Bounded again here: runs stored before messages were bounded still print as one line.
    reason: s.reason === null ? null : boundMessage(s.reason),
    failure: s.status === 'failed' ? stepFailure(detail, s.step) : null,
    materializations: mats
      .filter((m) => m.step === s.step)
      .reverse()
      .map((m) => ({ asset: m.asset, rows: m.rows, metadata: m.metadata })),
    checks: checks
      .filter((c) => c.step === s.step)
      .reverse()
      .map((c) => ({ asset: c.asset, check: c.check, severity: c.severity, passed: c.passed, value: c.value, message: c.message })),
  }));
  const quarantined = mats.reduce((n, m) => n + Number(m.metadata.quarantined ?? 0), 0);
  return {
    runId: run.id,
    pipeline: run.pipeline,
    partition: run.partition,
    status: run.status,
    error: run.error === null ? null : boundMessage(run.error),
    parentRunId: run.parentRunId ?? null,
    rootRunId: run.rootRunId ?? null,
    durationMs: span(run.startedAt, run.finishedAt),
    rowsWritten: steps.reduce((n, s) => n + s.rowsWritten, 0),
    quarantined,
    steps,
  };
}
