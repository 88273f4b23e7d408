import { randomUUID } from 'node:crypto';
import { ValidationError } from '../core/errors.ts';
import { admitBackfillRange } from '../core/run-partition.ts';
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
  /** Let the range reach before the first partition, past the last or past the current open one (refused otherwise). */
  readonly allowOutOfRange?: boolean;
}

export interface BackfillResult {
  readonly backfillId: string;
  readonly partitions: { partition: string; detail: RunDetail }[];
}

/** The most partitions one backfill may ask for; larger ranges are split by the user. */
export const MAX_BACKFILL_PARTITIONS = 10_000;

/** What a backfill will run, checked: its pipeline, its keys (within the limit) and its concurrency. */
export interface BackfillPlan {
  readonly pipeline: string;
  readonly keys: readonly string[];
  readonly concurrency: number;
}

/** Checks a backfill request and lists its partitions, before anything runs; throws what is wrong. */
export function planBackfill(registry: PipelineRegistry, req: BackfillRequest): BackfillPlan {
  const def = registry.get(req.pipeline);
  const keys = admitBackfillRange(def, req.from, req.to, new Date(), req.allowOutOfRange, req.maxPartitions ?? MAX_BACKFILL_PARTITIONS);
  const concurrency = req.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new ValidationError('concurrency must be an integer from 1 to 64', 'concurrency');
  }
  return { pipeline: def.name, keys, concurrency };
}

/**
 * One run per partition key from `from` to `to`, at most `concurrency` at a time. Runs go
 * through the coordinator like any other, so each is recorded, retried and checked. A
 * partition whose run ends no_data does not fail the backfill. `plan` is planBackfill's,
 * when the caller made it already.
 */
export async function runBackfill(
  coordinator: Coordinator,
  registry: PipelineRegistry,
  req: BackfillRequest,
  onRunDone?: (partition: string, detail: RunDetail) => void,
  plan: BackfillPlan = planBackfill(registry, req),
): Promise<BackfillResult> {
  const { keys, concurrency } = plan;
  const backfillId = req.backfillId ?? randomUUID();
  const results: { partition: string; detail: RunDetail }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const partition = keys[next++];
      const { done } = await coordinator.submit({ pipeline: plan.pipeline, partition, params: req.params, backfillId, allowOutOfRange: req.allowOutOfRange });
      const detail = await done;
      results.push({ partition, detail });
      onRunDone?.(partition, detail);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  results.sort((a, b) => a.partition.localeCompare(b.partition));
  return { backfillId, partitions: results };
}

/** Whether a backfill's run counts as done right: it succeeded, or its partition had no data. */
export const backfillRunOk = (status: string): boolean => status === 'succeeded' || status === 'no_data';

/** How a backfill's runs ended, for its summary line: `12 succeeded, 2 no data, 0 failed`. */
export function backfillCounts(statuses: readonly string[]): { succeeded: number; noData: number; failed: number } {
  const succeeded = statuses.filter((s) => s === 'succeeded').length;
  const noData = statuses.filter((s) => s === 'no_data').length;
  return { succeeded, noData, failed: statuses.length - succeeded - noData };
}
