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

/** Everything a step's code may use. One context per attempt. */
export interface StepContext<P = Record<string, unknown>> {
  readonly pipeline: string;
  readonly step: string;
  readonly runId: string;
  readonly attemptId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Params after validation by the pipeline's schema (defaults applied). */
  readonly params: P;
  /** The partition this run covers, or null for an unpartitioned run. */
  readonly partition: PartitionWindow | null;
  readonly warehouse: Warehouse;
  readonly objects: ObjectStore;
  /** What this run may read from files and URLs; pass it to `resolveSources`. */
  readonly sources: SourcePolicy;
  readonly log: StepLogger;
  /** Fires on cancellation or timeout; long work should pass it on or check it. */
  readonly signal: AbortSignal;
  /** Reports progress; shown live by the CLI and the API. */
  progress(rows: number, options?: { total?: number; message?: string }): void;
  /** Records that an asset was written, with its row count and anything worth keeping. */
  materialize(asset: string, info: { rows: number; metadata?: Record<string, unknown> }): void;
  /** Sets a gauge for Prometheus; the label `pipeline` is added for you. */
  gauge(name: string, value: number, options?: { help?: string; labels?: Record<string, string> }): void;
}
