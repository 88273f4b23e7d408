import { topicSink } from 'sluice';
import { history, KLINES_TOPIC } from './market-history-pipeline.ts';
import { loadKlines } from './load-klines.ts';
import { MARKET_DDL } from './schema.ts';

const schema = history.step({
  name: 'schema',
  description: 'creates the market database and tables (idempotent)',
  retry: { maxAttempts: 3, backoffMs: 500 },
  async run(ctx) {
    for (const ddl of MARKET_DDL) await ctx.warehouse.command(ddl);
  },
});

const klines = history.asset({ name: 'market.klines', description: 'candles by symbol, interval and open time (ReplacingMergeTree)' });

const load = history.step({
  name: 'klines',
  deps: [schema],
  description: 'fetches the candles market.klines does not have yet, pages in parallel within the weight budget, through sluice.data.klines into the table; records source gaps',
  assets: [klines],
  // A stream step for its offsets in the topic (kept across attempts), but one that ends:
  // when the window is loaded. Retried a few times, not for ever as a live stream is.
  stream: true,
  retry: { maxAttempts: 3, backoffMs: 2000 },
  async run(ctx) {
    // The topic carries market-live's candles too; this sink writes the loader's own only.
    const sink = await topicSink(ctx, { routes: [{ topic: KLINES_TOPIC, table: 'market.klines', where: (r) => r.source === 'history' }], progress: false });
    const { rows, metadata } = await loadKlines(ctx, sink);
    ctx.materialize(klines, { rows, metadata });
  },
});

export default history.build({ steps: [schema, load] });
