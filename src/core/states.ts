/**
 * `no_data`: a step said its partition has nothing to process (`throw noData(…)`) and
 * nothing failed; an outcome of its own, not a success that wrote nothing and not a
 * failure (docs/decisions/0014-no-data-outcome.md).
 */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'no_data', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

// No `ready`: a step is dispatched the moment its dependencies have succeeded, so a state
// between pending and running would never be observed.
export const STEP_STATUSES = [
  'pending', 'running', 'retrying', 'succeeded', 'no_data', 'failed', 'skipped', 'cancelled',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const ATTEMPT_STATUSES = ['running', 'succeeded', 'failed', 'lost', 'cancelled'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export type Severity = 'warn' | 'error';

const TERMINAL_RUN: ReadonlySet<RunStatus> = new Set(['succeeded', 'no_data', 'failed', 'cancelled']);
const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set(['succeeded', 'no_data', 'failed', 'skipped', 'cancelled']);

export const isTerminalRun = (s: RunStatus): boolean => TERMINAL_RUN.has(s);
export const isTerminalStep = (s: StepStatus): boolean => TERMINAL_STEP.has(s);

/**
 * Allowed step transitions. The coordinator refuses anything else (and logs it as its own
 * bug), so no event, late or replayed, can move a finished step.
 */
const STEP_NEXT: Record<StepStatus, readonly StepStatus[]> = {
  pending: ['running', 'skipped', 'cancelled'],
  running: ['succeeded', 'no_data', 'failed', 'retrying', 'cancelled'],
  retrying: ['running', 'failed', 'cancelled'],
  succeeded: [],
  no_data: [],
  failed: [],
  skipped: [],
  cancelled: [],
};

export const canTransitionStep = (from: StepStatus, to: StepStatus): boolean => STEP_NEXT[from].includes(to);
