import { downstreamOf, type DagNode } from './dag.ts';
import { isTerminalStep, type RunStatus, type StepStatus } from './states.ts';

export interface PlannedStep extends DagNode {
  status: StepStatus;
  reason: string | null;
}

/** Pending steps whose dependencies have all succeeded. */
export function readySteps<S extends PlannedStep>(steps: readonly S[]): S[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  return steps.filter((s) => s.status === 'pending' && s.deps.every((d) => byName.get(d)?.status === 'succeeded'));
}

/** Marks every not-yet-started step downstream of `from` skipped; returns the ones it changed. */
export function skipDownstream<S extends PlannedStep>(steps: readonly S[], from: string, reason: string): S[] {
  const down = downstreamOf(steps, from);
  const changed: S[] = [];
  for (const s of steps) {
    if (down.has(s.name) && s.status === 'pending') {
      s.status = 'skipped';
      s.reason = reason;
      changed.push(s);
    }
  }
  return changed;
}

/**
 * The run's final status once every step is terminal, else null. `no_data` when a step said
 * so and nothing else went wrong: no step failed and none was blocked by a check, so every
 * skipped step was skipped for lack of data.
 */
export function finalRunStatus(steps: readonly PlannedStep[], cancelled: boolean): RunStatus | null {
  if (!steps.every((s) => isTerminalStep(s.status))) return null;
  if (cancelled || steps.some((s) => s.status === 'cancelled')) return 'cancelled';
  if (steps.every((s) => s.status === 'succeeded') && !steps.some((s) => s.reason !== null)) return 'succeeded';
  const clean = !steps.some((s) => s.status === 'failed' || (s.status === 'succeeded' && s.reason !== null));
  return clean && steps.some((s) => s.status === 'no_data') ? 'no_data' : 'failed';
}
