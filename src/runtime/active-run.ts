import type { PlannedStep } from '../core/run-plan.ts';
import type { MetadataStore, RunDetail, RunRecord } from '../ports/metadata-store.ts';
import { isTerminalStep } from '../core/states.ts';
import type { StepDef } from '../sdk/step.ts';
import type { AnyPipeline, PipelineRegistry } from './pipeline-registry.ts';

export interface StepState extends PlannedStep {
  readonly def: StepDef<Record<string, unknown>>;
  attempt: number;
  attemptId: string | null;
  attemptStartedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  rowsWritten: number;
  lastSeq: number;
  blockedBy: string | null;
  /** Which replica of a stream step scaled on lag this is (0 for every other step). */
  readonly shard: number;
  /** Why the current attempt was told to stop, so the stop is sent again should it start later. */
  stopAsked: string | null;
}

/** A stream step scaled on lag, within one run: how many replicas run and what is changing. */
export interface ScaleState {
  count: number;
  /** The count being moved to while the replicas stop; null when none is under way. */
  target: number | null;
  /** Since when the lag has asked for fewer replicas. */
  lowSince: number | null;
}

/** A run the coordinator is driving, in memory; the metadata store has the durable copy. */
export interface ActiveRun {
  record: RunRecord;
  readonly def: AnyPipeline;
  readonly steps: StepState[];
  /** Per stream step that scales on lag (`scale`), by step name. */
  readonly scale: Map<string, ScaleState>;
  cancelled: boolean;
  readonly timers: Set<NodeJS.Timeout>;
  readonly done: PromiseWithResolvers<RunDetail>;
}

const nowIso = () => new Date().toISOString();

/** A fresh run; steps named in `reused` start out succeeded (re-execution from failure). */
export function newActiveRun(record: RunRecord, def: AnyPipeline, reused: ReadonlySet<string>): ActiveRun {
  const steps = def.order.map((name) => {
    const s = def.steps.find((x) => x.name === name)!;
    return newStepState(s, 0, reused.has(name));
  });
  const scale = new Map(def.steps.filter((s) => s.scale).map((s) => [s.name, { count: 1, target: null, lowSince: null }]));
  return { record, def, steps, scale, cancelled: false, timers: new Set(), done: Promise.withResolvers() };
}

/** Replica 0 of a scaled stream step is the step itself; replica k is `<step>[k]`. */
export const replicaName = (step: string, shard: number): string => (shard === 0 ? step : `${step}[${shard}]`);

/** A step (or one replica of a scaled stream step) that has not started. */
export function newStepState(def: StepDef<Record<string, unknown>>, shard: number, reused = false): StepState {
  return {
    name: replicaName(def.name, shard), deps: def.deps, def, shard, status: reused ? 'succeeded' : 'pending', reason: null, attempt: 0, attemptId: null,
    attemptStartedAt: null, startedAt: null, finishedAt: reused ? nowIso() : null, rowsWritten: 0, lastSeq: -1, blockedBy: null, stopAsked: null,
  };
}

/** The replicas of a scaled stream step that are still part of the run, by index. */
export const replicasOf = (run: ActiveRun, step: string): StepState[] => run.steps.filter((s) => s.def.name === step && s.def.scale !== null).sort((a, b) => a.shard - b.shard);

/**
 * Rebuilds a run after a control-plane restart from what the store recorded. An attempt
 * that was running may still be running on a worker: it stays current, and the health
 * monitor decides whether it is alive.
 */
export function restoreActiveRun(detail: RunDetail, def: AnyPipeline): ActiveRun {
  const run = newActiveRun(detail.run, def, new Set());
  // Replicas beyond the first that were still part of the run; those scaled in had ended.
  for (const d of def.steps) {
    if (!d.scale) continue;
    const live = detail.steps.flatMap((r) => {
      const m = /^(.+)\[(\d+)\]$/.exec(r.step);
      return m && m[1] === d.name && !isTerminalStep(r.status) ? [Number(m[2])] : [];
    });
    const count = Math.min(d.scale.maxReplicas, Math.max(0, ...live) + 1);
    for (let k = 1; k < count; k++) run.steps.push(newStepState(d, k));
    run.scale.set(d.name, { count, target: null, lowSince: null });
  }
  for (const s of run.steps) {
    const rec = detail.steps.find((x) => x.step === s.name);
    if (!rec) continue;
    s.status = rec.status;
    s.reason = rec.reason;
    s.attempt = rec.attempts;
    s.startedAt = rec.startedAt;
    s.finishedAt = rec.finishedAt;
    s.rowsWritten = rec.rowsWritten;
    const last = detail.attempts.filter((a) => a.step === s.name).at(-1);
    if (s.status === 'running' && last?.status === 'running') {
      s.attemptId = last.id;
      s.attemptStartedAt = last.startedAt;
    } else if (s.status === 'running') {
      // Dispatch was recorded but no attempt survives: run it again.
      s.status = 'pending';
    }
    if (s.status === 'succeeded' && s.reason !== null) s.blockedBy = s.reason;
  }
  return run;
}

/**
 * The runs a previous control plane left queued or running, oldest first, rebuilt from the
 * store. A run whose pipeline no longer exists is failed instead. Events of a still-running
 * attempt may be delivered again (Kafka redelivers what was not committed): the sequence
 * numbers stored with its events say which were applied already.
 */
export async function loadOpenRuns(metadata: MetadataStore, registry: PipelineRegistry): Promise<ActiveRun[]> {
  const open = [...(await metadata.runs.list({ status: 'running', limit: 10_000 })), ...(await metadata.runs.list({ status: 'queued', limit: 10_000 }))];
  const out: ActiveRun[] = [];
  for (const r of open.reverse()) {
    let def: AnyPipeline;
    try {
      def = registry.get(r.pipeline);
    } catch {
      await metadata.write({ runs: [{ id: r.id, status: 'failed', finishedAt: nowIso(), error: `pipeline ${r.pipeline} no longer exists` }] });
      continue;
    }
    const run = restoreActiveRun((await metadata.runs.get(r.id))!, def);
    const applied = new Map<string, number>();
    for (const e of await metadata.runs.events({ runId: r.id, limit: 100_000 })) {
      const seq = Number(e.payload.seq);
      if (e.attemptId && Number.isInteger(seq)) applied.set(e.attemptId, Math.max(applied.get(e.attemptId) ?? -1, seq));
    }
    for (const s of run.steps) if (s.attemptId) s.lastSeq = applied.get(s.attemptId) ?? -1;
    out.push(run);
  }
  return out;
}
