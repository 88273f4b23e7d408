import { boundMessage } from '../core/errors.ts';
import type { CheckResultRecord, MaterializationRecord, RunDetail } from '../ports/metadata-store.ts';

export interface RunSummary {
  runId: string;
  pipeline: string;
  partition: string | null;
  status: string;
  error: string | null;
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
    materializations: { asset: string; rows: number; metadata: Record<string, unknown> }[];
    checks: { asset: string; check: string; severity: string; passed: boolean; value: number | null; message: string }[];
  }[];
}

const span = (a: string | null, b: string | null) => (a && b ? Date.parse(b) - Date.parse(a) : null);

/** The `--json` shape of a run: stable, documented in the README. */
export function summarizeRun(detail: RunDetail, mats: readonly MaterializationRecord[], checks: readonly CheckResultRecord[]): RunSummary {
  const { run } = detail;
  const steps = detail.steps.map((s) => ({
    name: s.step,
    status: s.status,
    attempts: s.attempts,
    durationMs: span(s.startedAt, s.finishedAt),
    rowsWritten: s.rowsWritten,
    // Bounded again here: runs stored before messages were bounded still print as one line.
    reason: s.reason === null ? null : boundMessage(s.reason),
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
    durationMs: span(run.startedAt, run.finishedAt),
    rowsWritten: steps.reduce((n, s) => n + s.rowsWritten, 0),
    quarantined,
    steps,
  };
}
