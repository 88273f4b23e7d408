import type { RunStatus, StepStatus } from '../core/states.ts';
import type { CheckResult } from '../core/events.ts';
import type { AttemptFailure } from '../ports/metadata-store.ts';

/** What the coordinator tells live watchers (the CLI's progress view, SSE clients). */
export type RunUpdate =
  | { kind: 'run'; runId: string; pipeline: string; status: RunStatus; error: string | null }
  | { kind: 'step'; runId: string; step: string; status: StepStatus; attempt: number; reason: string | null }
  | { kind: 'progress'; runId: string; step: string; rows: number; total?: number; message?: string }
  | { kind: 'log'; runId: string; step: string; level: string; message: string }
  | { kind: 'materialized'; runId: string; step: string; asset: string; rows: number; metadata: Record<string, unknown> }
  | { kind: 'check'; runId: string; step: string; result: CheckResult }
  | { kind: 'attempt'; runId: string; step: string; attempt: number; failure: AttemptFailure };

export type RunListener = (u: RunUpdate) => void;
