import { TooLargeError, ValidationError } from './errors.ts';

export type PartitionGranularity = 'daily' | 'monthly';

export interface PartitionsDef {
  readonly granularity: PartitionGranularity;
  /** First key, inclusive (YYYY-MM-DD or YYYY-MM). */
  readonly start: string;
  /** Last key, inclusive; open-ended when absent. */
  readonly end?: string;
}

export interface PartitionWindow {
  readonly key: string;
  /** Inclusive start, ISO date. */
  readonly start: string;
  /** Exclusive end, ISO date. */
  readonly end: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;

function parseKey(g: PartitionGranularity, key: string): Date {
  const ok = g === 'daily' ? DAY.test(key) : MONTH.test(key);
  const d = new Date(g === 'daily' ? `${key}T00:00:00Z` : `${key}-01T00:00:00Z`);
  const roundTrip = Number.isNaN(d.getTime()) ? '' : formatKey(g, d);
  if (!ok || roundTrip !== key) {
    const want = g === 'daily' ? 'YYYY-MM-DD' : 'YYYY-MM';
    throw new ValidationError(`partition key "${key}" is not a valid ${g} key (${want})`, 'partition');
  }
  return d;
}

function formatKey(g: PartitionGranularity, d: Date): string {
  const iso = d.toISOString();
  return g === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
}

function step(g: PartitionGranularity, d: Date, by = 1): Date {
  const n = new Date(d);
  if (g === 'daily') n.setUTCDate(n.getUTCDate() + by);
  else n.setUTCMonth(n.getUTCMonth() + by);
  return n;
}

/** The time window of a well-formed key, whether or not the definition's range holds it. */
export function keyWindow(def: PartitionsDef, key: string): PartitionWindow {
  const d = parseKey(def.granularity, key);
  return { key, start: d.toISOString().slice(0, 10), end: step(def.granularity, d).toISOString().slice(0, 10) };
}

/** The partitioning as a person reads it: `daily from 2010-12-01, with no end`. */
export function describePartitions(def: PartitionsDef): string {
  return `${def.granularity} from ${def.start}${def.end === undefined ? ', with no end' : ` to ${def.end}`}`;
}

/** The time window a partition key covers; validates the key against the definition. */
export function partitionWindow(def: PartitionsDef, key: string): PartitionWindow {
  const w = keyWindow(def, key);
  if (key < def.start || (def.end !== undefined && key > def.end)) {
    const range = `${def.start} … ${def.end ?? 'open'}`;
    throw new ValidationError(`partition key "${key}" is outside ${range}`, 'partition');
  }
  return w;
}

/**
 * All keys from `from` to `to`, inclusive, in order. `anyRange` takes keys outside the
 * definition's range (the caller has checked them or was told to allow them). A range of
 * more than `max` keys is refused before any is made: years 0001 to 9999 are 3.6 M days.
 */
export function partitionKeys(def: PartitionsDef, from: string, to: string, anyRange = false, max = Number.POSITIVE_INFINITY): string[] {
  const window = anyRange ? keyWindow : partitionWindow;
  window(def, from);
  window(def, to);
  if (from > to) throw new ValidationError(`--from ${from} is after --to ${to}`, 'from');
  const a = parseKey(def.granularity, from);
  const b = parseKey(def.granularity, to);
  const count = def.granularity === 'daily'
    ? Math.round((b.getTime() - a.getTime()) / 86_400_000) + 1
    : (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth()) + 1;
  if (count > max) throw new TooLargeError(`backfill of ${count} partitions is over the limit of ${max}; split the range`);
  const keys: string[] = [];
  for (let d = parseKey(def.granularity, from); formatKey(def.granularity, d) <= to; d = step(def.granularity, d)) {
    keys.push(formatKey(def.granularity, d));
  }
  return keys;
}

/** The first of the `count` keys that end at `to`, never before the definition's start. */
export function firstOfLast(def: PartitionsDef, to: string, count: number): string {
  const from = formatKey(def.granularity, step(def.granularity, parseKey(def.granularity, to), 1 - count));
  return from < def.start ? def.start : from;
}

/**
 * The partition `now` falls in: the current, still open one. Keys are UTC windows
 * (`partitionWindow` starts them at 00:00Z), so `now` is read in UTC.
 */
export function currentPartitionKey(def: PartitionsDef, now: Date): string {
  return formatKey(def.granularity, now);
}
