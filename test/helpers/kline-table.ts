/** The columns of market.klines as a test table, deduplicating repeat inserts by token (the connector's tests). */
export const klinesTableDdl = (table: string): string => `CREATE TABLE IF NOT EXISTS ${table} (
      symbol LowCardinality(String), interval LowCardinality(String), open_time DateTime64(3, 'UTC'),
      open Decimal(38, 8), high Decimal(38, 8), low Decimal(38, 8), close Decimal(38, 8), volume Decimal(38, 8),
      close_time DateTime64(3, 'UTC'), quote_volume Decimal(38, 8), trades UInt64,
      taker_buy_volume Decimal(38, 8), taker_buy_quote_volume Decimal(38, 8),
      ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(ingested_at) ORDER BY (symbol, interval, open_time)
      SETTINGS non_replicated_deduplication_window = 1000`;
