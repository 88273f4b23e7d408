import { z } from 'zod';
import { definePipeline } from 'sluice';
import { AGG_TRADES_TOPIC, KLINES_TOPIC, symbolList } from '../market-history/market-history-pipeline.ts';

// Live market data (SEEDS.md §E, StreamForge's WebSocket loaders): trades, 1m candles and
// order books of symbols, from the exchange or `sluice replay binance`, through the data
// topics into market.agg_trades, market.klines and market.book_snapshots. It runs until
// stopped (`sluice stop <run>`, Ctrl-C).

/** The exchange's endpoints by market; params override them (the replay server, a testnet). */
export const ENDPOINTS = {
  futures: { baseUrl: 'https://fapi.binance.com', wsUrl: 'wss://fstream.binance.com', depthPath: '/fapi/v1/depth' },
  spot: { baseUrl: 'https://api.binance.com', wsUrl: 'wss://stream.binance.com:9443', depthPath: '/api/v3/depth' },
} as const;

/** The data topics the feed writes and the connector reads. */
export const TOPICS = { trades: AGG_TRADES_TOPIC, klines: KLINES_TOPIC, books: 'sluice.data.book-snapshots' } as const;

/** The market-live pipeline's declaration; index.ts builds its steps from it. */
export const live = definePipeline({
  name: 'market-live',
  description: 'trades, 1m candles and top-20 order books of symbols over WebSocket into market.* tables, until stopped',
  params: z.object({
    symbols: symbolList.default(['BTCUSDT', 'ETHUSDT']),
    market: z.enum(['futures', 'spot']).default('futures'),
    /** REST base for depth snapshots; default the market's. */
    baseUrl: z.string().url().optional(),
    /** WebSocket base; default the market's. */
    wsUrl: z.string().regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL').optional(),
    /** Levels of each side kept in market.book_snapshots. */
    depth: z.coerce.number().int().min(1).max(100).default(20),
    /** A connection silent this long is replaced (the replay server goes quiet at the end of its capture). */
    idleMs: z.coerce.number().int().min(100).max(600_000).default(60_000),
  }).strict(),
});

/** What its steps get, for the helpers in this folder. */
export type LiveContext = typeof live.context;
