import { nonRetryable } from 'sluice';

/**
 * Where every physical line of a source went. They must add up:
 * linesRead = headerLines + loaded + quarantined + otherPartitions + blankLines + continuationLines,
 * where otherPartitions are rows of other days that a partitioned run skips, and
 * continuationLines the second and later lines of records whose quoted fields hold line breaks.
 */
export interface Reconciliation {
  linesRead: number;
  headerLines: number;
  loaded: number;
  quarantined: number;
  otherPartitions: number;
  blankLines: number;
  continuationLines: number;
}

export const emptyReconciliation = (): Reconciliation => ({
  linesRead: 0, headerLines: 0, loaded: 0, quarantined: 0, otherPartitions: 0, blankLines: 0, continuationLines: 0,
});

export function addReconciliation(into: Reconciliation, r: Reconciliation): void {
  for (const k of Object.keys(into) as (keyof Reconciliation)[]) into[k] += r[k];
}

/** Throws, with both numbers, when the lines of `source` do not add up. */
export function checkReconciliation(source: string, r: Reconciliation): void {
  const accounted = r.headerLines + r.loaded + r.quarantined + r.otherPartitions + r.blankLines + r.continuationLines;
  if (accounted === r.linesRead) return;
  throw nonRetryable(
    `${source}: ${r.linesRead} lines read but ${accounted} accounted for (${r.headerLines} header + ${r.loaded} loaded + ${r.quarantined} quarantined + ${r.otherPartitions} other partitions + ${r.blankLines} blank + ${r.continuationLines} continuation lines)`,
    'the same file reconciles the same way on every attempt',
  );
}
