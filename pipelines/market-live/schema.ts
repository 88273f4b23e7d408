import { MARKET_DDL } from '../market-history/schema.ts';

/**
 * market-live's tables beside market-history's (market.klines and market.agg_trades are
 * shared: a live candle and a historical one of the same minute collapse into one row). Each has a deduplication window,
 * so a connector batch written again after a crash (same token) is dropped by the engine;
 * ReplacingMergeTree on the natural key is the second line of defence.
 */
export const LIVE_DDL = [
  ...MARKET_DDL,
  `CREATE TABLE IF NOT EXISTS market.book_snapshots (
    symbol LowCardinality(String), ts DateTime64(3, 'UTC'), last_update_id UInt64,
    bids Array(Tuple(price Decimal(38, 8), qty Decimal(38, 8))), asks Array(Tuple(price Decimal(38, 8), qty Decimal(38, 8))),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMMDD(ts) ORDER BY (symbol, ts)
    SETTINGS non_replicated_deduplication_window = 1000`,
];
