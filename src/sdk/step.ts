import { firstUserFrame } from '../core/failure.ts';
import type { PartitionWindow } from '../core/partitions.ts';
import { placementSchema, type Placement } from '../core/placement.ts';
import { streamScaleSchema, type StreamScale, type StreamScaleInput } from '../core/stream-scale.ts';
import { firstIssue } from '../core/zod-issue.ts';
import type { AssetDef } from './asset.ts';
import type { StepContext } from './context.ts';

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles each time, with jitter. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export interface StepDef<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  readonly name: string;
  readonly description?: string;
  readonly deps: readonly string[];
  readonly assets: readonly AssetDef<P, W>[];
  readonly retry: RetryPolicy;
  /** Per attempt; null means no limit. */
  readonly timeoutMs: number | null;
  /** Runs until stopped, with positions kept across attempts and runs (`ctx.stream`). */
  readonly stream: boolean;
  /** A stream step that scales on lag: how many attempts may share its partitions; null: one. */
  readonly scale: StreamScale | null;
  /** Where its attempts run on Kubernetes (resources, node pool, tolerations, image); null: the cluster's defaults. */
  readonly placement: Placement | null;
  /** Where the step was declared (`file:line:column`), so a bad reference in it can say where. */
  readonly declaredAt: string | null;
  run(ctx: StepContext<P, W>): Promise<void>;
}

/** `A` is the tuple of assets the step declares; `ctx.materialize` accepts only those. */
export interface StepOptions<P, W extends PartitionWindow | null = PartitionWindow | null, A extends readonly AssetDef<P, W>[] = readonly AssetDef<P, W>[]> {
  name: string;
  description?: string;
  /** Steps that must succeed first, by definition (checked by tsc) or by name (checked at load). */
  deps?: readonly (string | StepDef<P, W>)[];
  /** Assets this step writes; their checks run after it succeeds. */
  assets?: A;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  /**
   * A stream step: runs until stopped (`sluice stop`, the API, Ctrl-C), then flushes and
   * returns; a lost or failed attempt restarts from its committed positions. It has no
   * timeout, and unless `retry` says otherwise it is restarted without end (backoff to 60 s).
   */
  stream?: boolean;
  /**
   * A stream step only: run up to `maxReplicas` attempts at once (pods on Kubernetes) while
   * the lag is above `lagPerReplica` records per replica, each reading its share of the
   * partitions (`ctx.stream.shard`); fewer again once the lag has stayed low for
   * `scaleDownAfterMs`. A change stops every replica (each flushes and commits) and starts
   * the new set from the committed positions.
   */
  scale?: StreamScaleInput;
  /**
   * Where its attempts run when the launcher is Kubernetes: `resources` (cpu, memory),
   * `nodePool` (the value of the cluster's node-pool label), `tolerations`, `image`.
   */
  placement?: Placement;
  run(ctx: StepContext<P, W, A[number]['name']>): Promise<void> | void;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 1, backoffMs: 1000, maxBackoffMs: 60_000 });
/** A stream heals itself: restarted after every failure, the pause growing to a minute. */
export const STREAM_RETRY: RetryPolicy = Object.freeze({ maxAttempts: Number.MAX_SAFE_INTEGER, backoffMs: 1000, maxBackoffMs: 60_000 });

/**
 * Declares a step: the unit of execution, with its dependencies, the assets it writes,
 * its retry policy and timeout. Inside a pipeline, prefer `myPipeline.step(...)`, whose
 * `ctx` is typed from the pipeline's declaration.
 *
 * @example
 * const load = step({
 *   name: 'load',
 *   assets: [raw],
 *   retry: { maxAttempts: 3, backoffMs: 500 },
 *   timeoutMs: 60_000,
 *   placement: { resources: { cpu: '500m', memory: '1Gi' }, nodePool: 'etl' },
 *   async run(ctx) {
 *     await ctx.warehouse.command('INSERT INTO raw.events SELECT …');
 *     ctx.materialize(raw, { rows: 42 });
 *   },
 * });
 */
export function step<
  P = Record<string, unknown>,
  W extends PartitionWindow | null = PartitionWindow | null,
  const A extends readonly AssetDef<P, W>[] = readonly AssetDef<P, W>[],
>(options: StepOptions<P, W, A>): StepDef<P, W> {
  const declaredAt = firstUserFrame(new Error().stack);
  if (!/^[a-z][a-z0-9_-]*$/.test(options.name)) {
    throw new TypeError(`step name "${options.name}" must be lower-case letters, digits, - or _`);
  }
  const stream = options.stream === true;
  if (stream && options.timeoutMs !== undefined) throw new TypeError(`step ${options.name}: a stream step runs until stopped and takes no timeoutMs`);
  const retry = { ...(stream ? STREAM_RETRY : DEFAULT_RETRY), ...options.retry };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new TypeError(`step ${options.name}: retry.maxAttempts must be an integer ≥ 1`);
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new TypeError(`step ${options.name}: timeoutMs must be > 0`);
  }
  let scale: StreamScale | null = null;
  if (options.scale !== undefined) {
    if (!stream) throw new TypeError(`step ${options.name}: scale is for stream steps (stream: true)`);
    const p = streamScaleSchema.safeParse(options.scale);
    if (!p.success) {
      const { field, message } = firstIssue(p.error);
      throw new TypeError(`step ${options.name}: scale.${field}: ${message}`);
    }
    scale = Object.freeze(p.data);
  }
  let placement: Placement | null = null;
  if (options.placement !== undefined) {
    const p = placementSchema.safeParse(options.placement);
    if (!p.success) {
      const { field, message } = firstIssue(p.error);
      throw new TypeError(`step ${options.name}: placement.${field}: ${message}`);
    }
    placement = Object.freeze(p.data);
  }
  const run = options.run;
  return Object.freeze({
    name: options.name,
    description: options.description,
    deps: Object.freeze((options.deps ?? []).map((d) => (typeof d === 'string' ? d : d.name))),
    assets: Object.freeze([...(options.assets ?? [])]),
    retry: Object.freeze(retry),
    timeoutMs: options.timeoutMs ?? null,
    stream,
    scale,
    placement,
    declaredAt,
    run: async (ctx: StepContext<P, W>) => {
      // The executor refuses any asset the step does not declare, so the narrower type holds.
      await run(ctx as StepContext<P, W, A[number]['name']>);
    },
  });
}
