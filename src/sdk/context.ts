import type { PartitionWindow } from '../core/partitions.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { DataTopics } from '../ports/data-topics.ts';
import type { StreamPosition, StreamState } from '../core/events.ts';
import type { StreamShard } from '../core/stream-scale.ts';
import type { SourcePolicy } from './source-policy.ts';

export interface StepLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * What a stream step (`stream: true`) has beyond other steps: where it stood when this
 * attempt started, and the calls that save its position and report its state. The stream is
 * named `<pipeline>.<step>`; its positions outlive runs, so a new run resumes the last one.
 */
export interface StreamHandle {
  /** `<pipeline>.<step>`. */
  readonly name: string;
  /** The committed positions at launch (empty on the first start), per topic and partition. */
  readonly offsets: readonly StreamPosition[];
  /**
   * This attempt's share of the partitions when the step scales on lag (`scale`): the
   * partitions whose number modulo `count` is `index`. `{ index: 0, count: 1 }` otherwise.
   * `topicSink` and `connector` read only these.
   */
  readonly shard: StreamShard;
  /**
   * Saves positions; resolves once the control plane's event log has them. Call it with
   * `pendingEnd` before writing a batch and without it after, so a crash in between
   * replays exactly that batch.
   */
  commit(offsets: readonly StreamPosition[]): Promise<void>;
  /** Reports the state, per-partition progress and counters (records_in, dead_letters, reconnects, …); sent at most twice a second. */
  status(report: { state: StreamState; partitions?: readonly { topic: string; partition: number; offset: number; end: number }[]; counters?: Record<string, number>; message?: string }): void;
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
  /** The data topics (`sluice.data.*`): produce records, or read them in a stream step. */
  readonly topics: DataTopics;
  /** Set in a stream step (`stream: true`), null in any other. */
  readonly stream: StreamHandle | null;
  /** What this run may read from files and URLs; pass it to `resolveSources`. */
  readonly sources: SourcePolicy;
  readonly log: StepLogger;
  /**
   * Fires on cancellation or timeout; long work should pass it on or check it. In a stream
   * step it means "stop": flush, commit and return (the attempt then succeeds).
   */
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
