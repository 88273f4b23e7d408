import type { PartitionsDef } from '../core/partitions.ts';

/**
 * Daily partitions keyed `YYYY-MM-DD`, from `start` (inclusive) to `end` (inclusive, optional).
 *
 * @example
 * const retail = definePipeline({ name: 'retail', partitions: daily({ start: '2010-12-01' }) });
 */
export function daily(options: { start: string; end?: string }): PartitionsDef {
  return Object.freeze({ granularity: 'daily', start: options.start, end: options.end });
}

/**
 * Monthly partitions keyed `YYYY-MM`.
 *
 * @example
 * const taxi = definePipeline({ name: 'taxi', partitions: monthly({ start: '2019-01' }) });
 */
export function monthly(options: { start: string; end?: string }): PartitionsDef {
  return Object.freeze({ granularity: 'monthly', start: options.start, end: options.end });
}
