import { ValidationError } from '../core/errors.ts';
import type { PartitionWindow } from '../core/partitions.ts';
import { nonRetryable } from './retry-errors.ts';

/**
 * The run's partition, for code that only makes sense for one: a partitioned pipeline can
 * still be run without a key when the run asks for all partitions (`--all-partitions`; that
 * run covers every partition), so `ctx.partition` may be null. Throws a non-retryable ValidationError naming the step when there is none.
 *
 * @example
 * const day = requirePartition(ctx).key; // '2024-01-31'
 */
export function requirePartition(ctx: { readonly pipeline: string; readonly step: string; readonly partition: PartitionWindow | null }): PartitionWindow {
  if (ctx.partition !== null) return ctx.partition;
  throw nonRetryable(
    new ValidationError(`step ${ctx.step} of pipeline ${ctx.pipeline} needs a partition; run it with a partition key`, 'partition'),
    'a run without a partition key stays without one on every attempt',
  );
}
