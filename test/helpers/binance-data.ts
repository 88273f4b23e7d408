import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The committed Binance recordings (data/binance, see its README). */
export const BINANCE = fileURLToPath(new URL('../../data/binance/', import.meta.url));
export const KLINES = join(BINANCE, 'klines');
export const CAPTURE = join(BINANCE, 'ws/BINANCE.ws.1.0');
export const SNAPSHOTS = join(BINANCE, 'ws/BINANCE.http.0.0');

/** A symbol's February 2026 klines file as text, header included. */
export function klinesCsv(symbol: string): string {
  return gunzipSync(readFileSync(join(KLINES, `${symbol}-1m-2026-02.csv.gz`))).toString('utf8');
}
