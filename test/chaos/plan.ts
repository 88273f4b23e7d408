import { streamOf, type Rng } from './prng.ts';

export type Bus = 'memory' | 'kafka';
export type Target = 'worker' | 'control-plane' | 'broker';
export type RunKind = 'retail-day' | 'retail-full' | 'dummy' | 'dummy-fails';

export interface RunSpec {
  readonly kind: RunKind;
  readonly pipeline: 'retail' | 'dummy';
  readonly partition?: string;
  readonly params: Readonly<Record<string, number>>;
  /** A dummy run that asks for a failure must fail; everything else must succeed. */
  readonly expect: 'succeeded' | 'failed';
  /**
   * It kills or blocks its own worker process, taking the other attempts on that worker
   * with it: it runs alone, so those losses are never charged to a run that must succeed.
   */
  readonly exclusive: boolean;
}

/** When to inject, counted from the submission of the plan's first run. */
export type Moment =
  | { readonly kind: 'delay'; readonly ms: number }
  /** Once a worker reports the attempt of `step` started (polled), plus `extraMs`. */
  | { readonly kind: 'attempt'; readonly step: string; readonly extraMs: number }
  /** On the first SSE event of `type` for `step` in the run's stream. */
  | { readonly kind: 'event'; readonly type: string; readonly step: string };

export interface InjectionPlan {
  readonly index: number;
  readonly target: Target;
  readonly runs: readonly RunSpec[];
  readonly moment: Moment;
  /** Control plane: before the restart; broker: how long it stays down. */
  readonly pauseMs: number;
  /** After the fault was repaired, before the next injection's runs go in. */
  readonly settleMs: number;
}

const RETAIL_STEPS = ['schema', 'raw', 'staging', 'vault', 'marts', 'quality'];
const RETAIL_EVENTS: readonly (readonly [string, string])[] = [
  ...RETAIL_STEPS.map((s) => ['step.running', s] as const),
  ['progress', 'raw'],
  ...['raw', 'staging', 'vault', 'marts', 'quality'].map((s) => ['asset.materialized', s] as const),
  ['check.evaluated', 'raw'],
  ['check.evaluated', 'quality'],
  ...RETAIL_STEPS.slice(0, -1).map((s) => ['step.succeeded', s] as const),
];
const DUMMY_EVENTS: readonly (readonly [string, string])[] = [
  ['step.running', 'load'], ['progress', 'load'], ['asset.materialized', 'load'], ['check.evaluated', 'load'],
];

function drawRun(rng: Rng, days: readonly string[]): RunSpec {
  const kind = rng.weighted<RunKind>({ 'retail-day': 45, 'retail-full': 10, dummy: 35, 'dummy-fails': 10 });
  if (kind === 'retail-day') return { kind, pipeline: 'retail', partition: rng.pick(days), params: {}, expect: 'succeeded', exclusive: false };
  if (kind === 'retail-full') return { kind, pipeline: 'retail', params: {}, expect: 'succeeded', exclusive: false };
  const records = rng.int(200, 4000);
  const rate = rng.int(1000, 4000);
  if (kind === 'dummy') return { kind, pipeline: 'dummy', params: { records, rate }, expect: 'succeeded', exclusive: false };
  const at = rng.int(0, records - 1);
  const how = rng.weighted({ failAfter: 2, crashAfter: 1, hangAfter: 1 });
  const params = how === 'hangAfter' ? { records, rate, hangAfter: at, hangMs: rng.int(2000, 5000) } : { records, rate, [how]: at };
  return { kind, pipeline: 'dummy', params, expect: 'failed', exclusive: how !== 'failAfter' };
}

function drawMoment(rng: Rng, run: RunSpec): Moment {
  const kind = rng.weighted({ delay: 35, attempt: 35, event: 30 });
  if (kind === 'delay') return { kind, ms: rng.int(0, run.kind === 'retail-day' ? 1500 : 3000) };
  if (kind === 'attempt') return { kind, step: run.pipeline === 'retail' ? rng.pick(RETAIL_STEPS) : 'load', extraMs: rng.int(0, 250) };
  const [type, step] = rng.pick(run.pipeline === 'retail' ? RETAIL_EVENTS : DUMMY_EVENTS);
  return { kind, type, step };
}

/** Injection `index` of the campaign `seed`: the same seed always gives the same plan. */
export function planInjection(seed: number, index: number, bus: Bus, days: readonly string[]): InjectionPlan {
  const rng = streamOf(seed, index);
  const target = rng.weighted<Target>(bus === 'kafka' ? { worker: 40, 'control-plane': 30, broker: 30 } : { worker: 60, 'control-plane': 40, broker: 0 });
  const first = drawRun(rng, days);
  const runs = [first];
  // A second run alongside makes the fault hit concurrent runs (and the same day twice).
  if (!first.exclusive && rng.chance(0.3)) {
    const second = drawRun(rng, days);
    if (!second.exclusive) runs.push(second);
  }
  const moment = drawMoment(rng, first);
  const pauseMs = target === 'broker' ? rng.int(1000, 6000) : rng.int(0, 500);
  return { index, target, runs, moment, pauseMs, settleMs: rng.int(300, 2500) };
}

export const describeMoment = (m: Moment): string =>
  m.kind === 'delay' ? `${m.ms} ms after submit` : m.kind === 'attempt' ? `${m.extraMs} ms into ${m.step}'s attempt` : `on ${m.type} of ${m.step}`;
