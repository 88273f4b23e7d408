/**
 * The market tables. Prices and quantities are Decimal(38, 8): the exchange writes at most
 * 8 decimals, so every value is kept exactly (docs/decisions/0022-market-decimals.md).
 * ReplacingMergeTree on (symbol, interval, open_time) makes a second copy of a candle
 * collapse into one; the loader also never publishes a candle the table already has.
 */
export const MARKET_DDL = [
  'CREATE DATABASE IF NOT EXISTS market',
  `CREATE TABLE IF NOT EXISTS market.klines (
    symbol LowCardinality(String), interval LowCardinality(String), open_time DateTime64(3, 'UTC'),
    open Decimal(38, 8), high Decimal(38, 8), low Decimal(38, 8), close Decimal(38, 8), volume Decimal(38, 8),
    close_time DateTime64(3, 'UTC'), quote_volume Decimal(38, 8), trades UInt64,
    taker_buy_volume Decimal(38, 8), taker_buy_quote_volume Decimal(38, 8),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(open_time) ORDER BY (symbol, interval, open_time)`,
  // A sink's batch written again after a crash carries the same token: dropped by the engine
  // within this many blocks (an ALTER, so a table made before this line gets it too).
  'ALTER TABLE market.klines MODIFY SETTING non_replicated_deduplication_window = 1000',
  `CREATE TABLE IF NOT EXISTS market.agg_trades (
    symbol LowCardinality(String), agg_trade_id UInt64, price Decimal(38, 8), qty Decimal(38, 8),
    first_trade_id UInt64, last_trade_id UInt64, trade_time DateTime64(3, 'UTC'), is_buyer_maker Bool,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(trade_time) ORDER BY (symbol, agg_trade_id)
    SETTINGS non_replicated_deduplication_window = 1000`,
  // Ranges the source itself has no candles for (exchange maintenance): reported, never silent.
  `CREATE TABLE IF NOT EXISTS market.kline_gaps (
    symbol LowCardinality(String), interval LowCardinality(String),
    gap_from DateTime64(3, 'UTC'), gap_to DateTime64(3, 'UTC'), candles UInt32, run_id String,
    detected_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree(detected_at) ORDER BY (symbol, interval, gap_from)`,
];
