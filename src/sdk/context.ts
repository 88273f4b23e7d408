import type { PartitionWindow } from '../core/partitions.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { SourcePolicy } from './source-policy.ts';

export interface StepLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** An asset by value (what `asset()` returns) or anything else that names one. */
export interface AssetRef<N extends string = string> {
  readonly name: N;
}

/**
 * Everything a step's code may use. One context per attempt.
 *
 * `P` is the pipeline's params (the zod output type), `W` what `partition` can be (`null` in
 * an unpartitioned pipeline; `PartitionWindow | null` in a partitioned one, since a run
 * without a key covers every partition) and `N` the names of the assets the step declares.
 * Pipeline code never spells these out: `definePipeline()` infers them, and a helper in
 * another file takes `ctx: typeof myPipeline.context`.
 *
 * @example
 * const orders = definePipeline({ name: 'orders', params: z.object({ day: z.string() }) });
 * export async function load(ctx: typeof orders.context) {
 *   ctx.log.info(`loading ${ctx.params.day}`);
 * }
 */
export interface StepContext<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null, N extends string = string> {
  readonly pipeline: string;
  readonly step: string;
  readonly runId: string;
  readonly attemptId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Params after validation by the pipeline's schema (defaults applied). */
  readonly params: P;
  /** The partition this run covers, or null for a run without a key; see `requirePartition`. */
  readonly partition: W;
  readonly warehouse: Warehouse;
  readonly objects: ObjectStore;
  /** What this run may read from files and URLs; pass it to `resolveSources`. */
  readonly sources: SourcePolicy;
  readonly log: StepLogger;
  /** Fires on cancellation or timeout; long work should pass it on or check it. */
  readonly signal: AbortSignal;
  /** Reports progress; shown live by the CLI and the API. */
  progress(rows: number, options?: { total?: number; message?: string }): void;
  /**
   * Records that an asset the step declares was written, with its row count and anything
   * worth keeping. An asset the step does not declare is an error.
   */
  materialize(asset: N | AssetRef<N>, info: { rows: number; metadata?: Record<string, unknown> }): void;
  /** Sets a gauge for Prometheus; the label `pipeline` is added for you. */
  gauge(name: string, value: number, options?: { help?: string; labels?: Record<string, string> }): void;
}
