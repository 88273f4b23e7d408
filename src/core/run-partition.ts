import { ValidationError } from './errors.ts';
import { currentPartitionKey, describePartitions, keyWindow, partitionKeys, type PartitionsDef } from './partitions.ts';

/** What a run or backfill request says about partitions. */
export interface PartitionChoice {
  readonly partition?: string | null;
  /** One run over every partition the source has, instead of one key. */
  readonly allPartitions?: boolean;
  /** Run keys before the first partition, after the last, or after the current open one. */
  readonly allowOutOfRange?: boolean;
}

const OVERRIDE = 'pass --allow-out-of-range (API: allowOutOfRange: true) to run it anyway';
const keyFormat = (def: PartitionsDef) => (def.granularity === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM');

/**
 * Refuses a key the pipeline's partitions do not hold: before the first, after the last,
 * or after the current open partition (the one `now` falls in, UTC), whose data cannot
 * exist yet, so naming it is a typo (2031 for 2013) more often than a plan. A malformed
 * key is refused even with the override: it names no window at all.
 */
export function checkPartitionKey(pipeline: string, def: PartitionsDef, key: string, now: Date, allowOutOfRange = false): void {
  keyWindow(def, key);
  if (allowOutOfRange) return;
  const where = `pipeline "${pipeline}" is partitioned ${describePartitions(def)}`;
  if (key < def.start) throw new ValidationError(`partition key "${key}" is before the first partition: ${where}; ${OVERRIDE}`, 'partition');
  if (def.end !== undefined && key > def.end) throw new ValidationError(`partition key "${key}" is after the last partition: ${where}; ${OVERRIDE}`, 'partition');
  const current = currentPartitionKey(def, now);
  if (key > current) {
    throw new ValidationError(
      `partition key "${key}" is in the future: the current open ${def.granularity} partition is ${current} (UTC); ${OVERRIDE}`,
      'partition',
    );
  }
}

/**
 * The partition key a new run gets (null: the run covers everything), or a ValidationError
 * saying what to pass. A partitioned pipeline needs a key, or `allPartitions` for one run
 * over every partition the source has; an unpartitioned one takes no key.
 */
export function admitRunPartition(pipeline: { name: string; partitions: PartitionsDef | null }, req: PartitionChoice, now: Date): string | null {
  const def = pipeline.partitions;
  const key = req.partition ?? null;
  if (def === null) {
    if (key !== null) throw new ValidationError(`pipeline ${pipeline.name} is not partitioned; drop --partition`, 'partition');
    return null;
  }
  if (key === null) {
    if (req.allPartitions) return null;
    throw new ValidationError(
      `pipeline "${pipeline.name}" is partitioned ${describePartitions(def)}: pass --partition ${keyFormat(def)}, ` +
        'or --all-partitions for one run over every partition the source has (API: partition, or allPartitions: true)',
      'partition',
    );
  }
  if (req.allPartitions) throw new ValidationError('pass either a partition key or --all-partitions (API: allPartitions), not both', 'allPartitions');
  checkPartitionKey(pipeline.name, def, key, now, req.allowOutOfRange);
  return key;
}

/** The keys of a backfill from `from` to `to`, inclusive (at most `max`), with the same rules as a run's key. */
export function admitBackfillRange(
  pipeline: { name: string; partitions: PartitionsDef | null }, from: string, to: string, now: Date, allowOutOfRange: boolean | undefined, max: number,
): string[] {
  const def = pipeline.partitions;
  if (def === null) throw new ValidationError(`pipeline ${pipeline.name} is not partitioned; use sluice run`, 'pipeline');
  // The ends' rules first: "in the future" says more than "too many partitions".
  checkPartitionKey(pipeline.name, def, from, now, allowOutOfRange);
  checkPartitionKey(pipeline.name, def, to, now, allowOutOfRange);
  return partitionKeys(def, from, to, true, max);
}
