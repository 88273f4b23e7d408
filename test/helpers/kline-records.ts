import { klinesCsv } from './binance-data.ts';

/** A candle as the data topic carries it: the table's columns, prices as the exchange wrote them. */
export interface KlineRecord {
  symbol: string; interval: string; open_time: number; open: string; high: string; low: string; close: string; volume: string;
  close_time: number; quote_volume: string; trades: number; taker_buy_volume: string; taker_buy_quote_volume: string;
}

/** The committed February 2026 1m candles of a symbol as data-topic records. */
export function klineRecords(symbol: string): KlineRecord[] {
  return klinesCsv(symbol).trim().split('\n').slice(1).map((line) => {
    const f = line.split(',');
    return {
      symbol, interval: '1m', open_time: Number(f[0]), open: f[1]!, high: f[2]!, low: f[3]!, close: f[4]!, volume: f[5]!,
      close_time: Number(f[6]), quote_volume: f[7]!, trades: Number(f[8]), taker_buy_volume: f[9]!, taker_buy_quote_volume: f[10]!,
    };
  });
}

/** Decimal text with 8 places, as toDecimalString(x, 8) prints it, so table rows compare with CSV fields. */
export function places8(d: string): string {
  const [whole, frac = ''] = d.split('.');
  return `${whole}.${frac.padEnd(8, '0')}`;
}

/** One line per candle, the same text from a record and from the table (see KLINE_LINE_SQL). */
export function klineLine(k: KlineRecord): string {
  return [k.symbol, k.open_time, places8(k.open), places8(k.high), places8(k.low), places8(k.close), places8(k.volume), k.close_time,
    places8(k.quote_volume), k.trades, places8(k.taker_buy_volume), places8(k.taker_buy_quote_volume)].join(',');
}

/** `klineLine` of each row of a klines table, in (symbol, open_time) order. */
export const klineLineSql = (table: string, final = false) => `SELECT concat(symbol, ',', toString(toUnixTimestamp64Milli(open_time)), ',',
  toDecimalString(open, 8), ',', toDecimalString(high, 8), ',', toDecimalString(low, 8), ',', toDecimalString(close, 8), ',',
  toDecimalString(volume, 8), ',', toString(toUnixTimestamp64Milli(close_time)), ',', toDecimalString(quote_volume, 8), ',',
  toString(trades), ',', toDecimalString(taker_buy_volume, 8), ',', toDecimalString(taker_buy_quote_volume, 8)) AS line
  FROM ${table}${final ? ' FINAL' : ''} ORDER BY symbol, open_time`;
