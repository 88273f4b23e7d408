import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { maxDecimal, minDecimal, sumDecimals } from './decimal.ts';

/** A kline in the exchange's REST shape: [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume, "0"]. */
export type Kline = [number, string, string, string, string, string, number, string, number, string, string, string];

/** The intervals the exchange serves, in milliseconds; all are aggregated from 1m here. */
export const INTERVALS: Readonly<Record<string, number>> = {
  '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000,
  '1h': 3_600_000, '2h': 7_200_000, '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000, '1d': 86_400_000,
};

const FILE = /^([A-Z0-9]+)-1m-(\d{4})-(\d{2})\.csv(\.gz)?$/;

/**
 * The 1-minute klines of every `<SYMBOL>-1m-<YYYY-MM>.csv` (or `.csv.gz`) in a folder (data.binance.vision's
 * layout, with or without the header line), sorted by open time, and what the REST API
 * answers from them. A minute missing from the files is missing from every answer, as the
 * exchange's own maintenance gaps are.
 */
export class KlinesStore {
  readonly #bySymbol = new Map<string, Kline[]>();

  static load(dir: string): KlinesStore {
    const store = new KlinesStore();
    const files = readdirSync(dir).filter((f) => FILE.test(f)).sort();
    if (files.length === 0) throw new Error(`${dir}: no <SYMBOL>-1m-<YYYY-MM>.csv (or .csv.gz) files`);
    for (const f of files) store.#add(FILE.exec(f)![1]!, join(dir, f));
    for (const rows of store.#bySymbol.values()) rows.sort((a, b) => a[0] - b[0]);
    return store;
  }

  #add(symbol: string, path: string): void {
    const rows = this.#bySymbol.get(symbol) ?? [];
    const bytes = readFileSync(path);
    const lines = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (line === '' || (i === 0 && line.startsWith('open_time'))) return;
      const c = line.trimEnd().split(',');
      if (c.length < 11 || !/^\d+$/.test(c[0]!)) throw new Error(`${path}:${i + 1}: not a kline row (${c.length} fields): ${line.slice(0, 80)}`);
      rows.push([Number(c[0]), c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, Number(c[6]), c[7]!, Number(c[8]), c[9]!, c[10]!, '0']);
    });
    this.#bySymbol.set(symbol, rows);
  }

  symbols(): string[] {
    return [...this.#bySymbol.keys()].sort();
  }

  has(symbol: string): boolean {
    return this.#bySymbol.has(symbol);
  }

  /** First and last open time of a symbol's 1m klines. */
  range(symbol: string): { first: number; last: number } | null {
    const rows = this.#bySymbol.get(symbol);
    return rows?.length ? { first: rows[0]![0], last: rows.at(-1)![0] } : null;
  }

  /**
   * The exchange's klines semantics: open times within [startTime, endTime]; with a start,
   * the first `limit` from it; with only an end, the last `limit` up to it; with neither, the
   * latest `limit`.
   */
  query(symbol: string, interval: string, o: { startTime?: number; endTime?: number; limit: number }): Kline[] {
    const ms = INTERVALS[interval];
    const rows = this.#bySymbol.get(symbol);
    if (!ms || !rows) return [];
    const from = o.startTime === undefined ? -Infinity : o.startTime;
    const to = o.endTime === undefined ? Infinity : o.endTime;
    if (ms === 60_000) {
      const lo = lowerBound(rows, from);
      const hi = upperBound(rows, to);
      return o.startTime !== undefined ? rows.slice(lo, Math.min(hi, lo + o.limit)) : rows.slice(Math.max(lo, hi - o.limit), hi);
    }
    // Aggregate the buckets that overlap the range, then pick as for 1m.
    const first = o.startTime === undefined ? rows[0]![0] : Math.floor(from / ms) * ms;
    const lo = lowerBound(rows, first);
    const hi = upperBound(rows, to === Infinity ? Infinity : Math.floor(to / ms) * ms + ms - 1);
    const out: Kline[] = [];
    for (let i = lo; i < hi;) {
      const open = Math.floor(rows[i]![0] / ms) * ms;
      let j = i;
      while (j < hi && rows[j]![0] < open + ms) j++;
      if (open >= from && open <= to) out.push(aggregate(rows.slice(i, j), open, ms));
      i = j;
    }
    return o.startTime !== undefined ? out.slice(0, o.limit) : out.slice(-o.limit);
  }
}

function aggregate(rows: readonly Kline[], open: number, ms: number): Kline {
  const f = rows[0]!;
  let high = f[2];
  let low = f[3];
  for (const r of rows) {
    high = maxDecimal(high, r[2]);
    low = minDecimal(low, r[3]);
  }
  const sum = (k: 5 | 7 | 9 | 10) => sumDecimals(rows.map((r) => r[k]));
  return [open, f[1], high, low, rows.at(-1)![4], sum(5), open + ms - 1, sum(7), rows.reduce((n, r) => n + r[8], 0), sum(9), sum(10), '0'];
}

// Index of the first row opening at or after t.
function lowerBound(rows: readonly Kline[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Index past the last row opening at or before t.
function upperBound(rows: readonly Kline[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]![0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
