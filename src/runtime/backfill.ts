import { randomUUID } from 'node:crypto';
import { TooLargeError, ValidationError } from '../core/errors.ts';
import { checkNotFuture, partitionKeys } from '../core/partitions.ts';
import type { RunDetail } from '../ports/metadata-store.ts';
import type { Coordinator } from './coordinator.ts';
import type { PipelineRegistry } from './pipeline-registry.ts';

export interface BackfillRequest {
  readonly pipeline: string;
  readonly from: string;
  readonly to: string;
  readonly concurrency?: number;
  readonly params?: Record<string, unknown>;
  /** At most this many partitions (default MAX_BACKFILL_PARTITIONS). */
  readonly maxPartitions?: number;
  /** Chosen by the caller when it must know the id before the runs start. */
  readonly backfillId?: string;
  /** Let the range reach past the current open partition (refused otherwise). */
  readonly allowFuture?: boolean;
}

export interface BackfillResult {
  readonly backfillId: string;
  readonly partitions: { partition: string; detail: RunDetail }[];
}

/** The most partitions one backfill may ask for; larger ranges are split by the user. */
export const MAX_BACKFILL_PARTITIONS = 10_000;

/**
 * One run per partition key from `from` to `to`, at most `concurrency` at a time. Runs go
 * through the coordinator like any other, so each is recorded, retried and checked.
 */
export async function runBackfill(
  coordinator: Coordinator,
  registry: PipelineRegistry,
  req: BackfillRequest,
  onRunDone?: (partition: string, detail: RunDetail) => void,
): Promise<BackfillResult> {
  const def = registry.get(req.pipeline);
  if (!def.partitions) throw new ValidationError(`pipeline ${def.name} is not partitioned; use sluice run`, 'pipeline');
  const keys = partitionKeys(def.partitions, req.from, req.to);
  checkNotFuture(def.partitions, req.to, new Date(), req.allowFuture);
  const max = req.maxPartitions ?? MAX_BACKFILL_PARTITIONS;
  if (keys.length > max) {
    throw new TooLargeError(`backfill of ${keys.length} partitions is over the limit of ${max}; split the range`);
  }
  const concurrency = req.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new ValidationError('concurrency must be an integer from 1 to 64', 'concurrency');
  }
  const backfillId = req.backfillId ?? randomUUID();
  const results: { partition: string; detail: RunDetail }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const partition = keys[next++];
      const { done } = await coordinator.submit({ pipeline: def.name, partition, params: req.params, backfillId, allowFuture: req.allowFuture });
      const detail = await done;
      results.push({ partition, detail });
      onRunDone?.(partition, detail);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  results.sort((a, b) => a.partition.localeCompare(b.partition));
  return { backfillId, partitions: results };
}
