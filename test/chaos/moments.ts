import { sleep, type Api, type RunDetail } from './api.ts';
import type { Moment, Target } from './plan.ts';

export interface Fired {
  /** `on-time`: the moment came; `run-ended` / `timeout`: it never did, the fault goes in now. */
  readonly how: 'on-time' | 'run-ended' | 'timeout';
  /** The attempt the moment was about, when it named one. */
  readonly attemptId: string | null;
}

const MOMENT_TIMEOUT_MS = 30_000;

async function runningAttempt(api: Api, runId: string, step: string, end: number): Promise<Fired> {
  while (Date.now() < end) {
    const d = await api.run(runId).catch(() => null);
    if (d?.run.finishedAt) return { how: 'run-ended', attemptId: null };
    const a = d?.attempts.find((x) => x.status === 'running' && x.step === step);
    // Running for the store is not yet running on a worker: wait for its attempt.started.
    if (a && (await api.workers().catch(() => [])).some((w) => w.running.includes(a.id))) return { how: 'on-time', attemptId: a.id };
    await sleep(20);
  }
  return { how: 'timeout', attemptId: null };
}

/** Waits for the plan's moment in the run `runId`; every wait is bounded. */
export async function waitForMoment(api: Api, runId: string, m: Moment): Promise<Fired> {
  if (m.kind === 'delay') {
    await sleep(m.ms);
    return { how: 'on-time', attemptId: null };
  }
  if (m.kind === 'attempt') {
    const fired = await runningAttempt(api, runId, m.step, Date.now() + MOMENT_TIMEOUT_MS);
    if (fired.how === 'on-time') await sleep(m.extraMs);
    return fired;
  }
  const { events, ended } = await api
    .readEvents(runId, (e) => e.type === m.type && e.step === m.step, MOMENT_TIMEOUT_MS)
    .catch(() => ({ events: [], ended: 'closed' as const }));
  if (ended === 'matched') return { how: 'on-time', attemptId: events.at(-1)!.attemptId };
  return { how: ended === 'timeout' ? 'timeout' : 'run-ended', attemptId: null };
}

/** Attempts a fault of this kind can cost each step that is running or still to run. */
export const FAULT_COST: Readonly<Record<Target, number>> = {
  // Its own attempts, and a start it had taken but not yet begun (lost at the start timeout).
  worker: 1,
  // The attempt running, or the start it had published but no worker had taken.
  'control-plane': 1,
  // The attempt that stops being heard of, then the retry whose start could not be published.
  broker: 2,
};

/**
 * How many more attempts of the run a fault may cost before a step that must succeed
 * runs out of retries: per unfinished step, its budget minus the attempts used, counting
 * the one running (or about to be dispatched).
 */
export function spareAttempts(d: RunDetail, maxAttempts: (pipeline: string, step: string) => number): number {
  if (d.run.finishedAt) return Infinity;
  let spare = Infinity;
  for (const s of d.steps) {
    if (['succeeded', 'failed', 'cancelled', 'skipped'].includes(s.status)) continue;
    const current = s.status === 'running' ? 0 : 1;
    spare = Math.min(spare, maxAttempts(d.run.pipeline, s.step) - s.attempts - current);
  }
  return spare;
}
