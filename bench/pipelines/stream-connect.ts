import { connector, definePipeline } from 'sluice';

// The connector of `npm run bench -- streams`: sluice.data.bench-klines → bench_stream.klines
// (market.klines' columns), batches of 50,000 rows.
const p = definePipeline({ name: 'bench-stream-connect', description: 'bench: a data topic of candles into a table' });

export const KLINES_COLUMNS = `symbol LowCardinality(String), interval LowCardinality(String), open_time DateTime64(3, 'UTC'),
  open Decimal(38, 8), high Decimal(38, 8), low Decimal(38, 8), close Decimal(38, 8), volume Decimal(38, 8),
  close_time DateTime64(3, 'UTC'), quote_volume Decimal(38, 8), trades UInt64,
  taker_buy_volume Decimal(38, 8), taker_buy_quote_volume Decimal(38, 8)`;

const connect = connector({
  name: 'connect',
  batchRows: 50_000,
  batchMs: 500,
  routes: [{ topic: 'sluice.data.bench-klines', table: 'bench_stream.klines' }],
});

export default p.build({ steps: [connect] });
