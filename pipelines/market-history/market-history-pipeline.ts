import { z } from 'zod';
import { daily, definePipeline } from 'sluice';

// Historical market data (SEEDS.md §E, StreamForge's REST loaders): klines of USD-M futures
// symbols for a day (partition) or an ad-hoc range, from the exchange or `sluice replay
// binance`, through sluice.data.klines into market.klines. `sluice backfill market-history --from … --to …` loads months.
/** Symbols as a list or one comma-separated string (`--param symbols=BTCUSDT,ETHUSDT`). */
export const symbolList = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'a symbol such as BTCUSDT')).min(1).max(50));

/** The data topic candles travel on, from the loaders (this one, market-live) to market.klines. */
export const KLINES_TOPIC = 'sluice.data.klines';
/** The data topic aggregate trades travel on, to market.agg_trades. */
export const AGG_TRADES_TOPIC = 'sluice.data.agg-trades';

/** The market-history pipeline's declaration; index.ts builds its steps from it. */
export const history = definePipeline({
  name: 'market-history',
  description: 'USD-M futures klines (or aggregate trades) for symbols and a day (or a from/to range) into market.klines (market.agg_trades), within the exchange\'s weight budget',
  params: z.object({
    symbols: symbolList.default(['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT']),
    interval: z.enum(['1m', '5m', '15m', '1h', '1d']).default('1m'),
    /** Candles into market.klines, or the exchange's aggregate trades into market.agg_trades. */
    kind: z.enum(['klines', 'aggTrades']).default('klines'),
    /** An ad-hoc range instead of a partition: ISO dates or times, `to` exclusive. */
    from: z.string().optional(),
    to: z.string().optional(),
    /** The futures REST API; `sluice replay binance` serves one offline. */
    baseUrl: z.string().url().default('https://fapi.binance.com'),
    /** Pages in flight at once. */
    concurrency: z.coerce.number().int().min(1).max(16).default(4),
    /** Share of the exchange's weight limit this loader may use (the rest is left to other clients). */
    weightShare: z.coerce.number().min(0.05).max(1).default(0.9),
  }).strict(),
  partitions: daily({ start: '2019-09-08' }),
  // One load at a time: each run's budget assumes it is the exchange's only client from this
  // address, and its stream (offsets in sluice.data.klines) has one writer. Others queue.
  concurrency: 1,
});

/** What its steps get, for the helpers in this folder. */
export type HistoryContext = typeof history.context;
