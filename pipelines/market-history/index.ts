import { topicSink } from 'sluice';
import { AGG_TRADES_TOPIC, history, KLINES_TOPIC } from './market-history-pipeline.ts';
import { loadAggTrades } from './load-agg-trades.ts';
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
const aggTrades = history.asset({ name: 'market.agg_trades', description: 'aggregate trades by symbol and id (ReplacingMergeTree)' });
// The topics carry market-live's records too; the loader's sink writes its own only.
const mine = (r: Record<string, unknown>) => r.source === 'history';

const load = history.step({
  name: 'load',
  deps: [schema],
  description: 'fetches what market.klines (or market.agg_trades) does not have yet within the weight budget, through sluice.data.klines (sluice.data.agg-trades) into the table; records source gaps',
  assets: [klines, aggTrades],
  // A stream step for its offsets in the topics (kept across attempts), but one that ends:
  // when the window is loaded. Retried a few times, not for ever as a live stream is.
  stream: true,
  retry: { maxAttempts: 3, backoffMs: 2000 },
  async run(ctx) {
    const sink = await topicSink(ctx, {
      routes: [{ topic: KLINES_TOPIC, table: 'market.klines', where: mine }, { topic: AGG_TRADES_TOPIC, table: 'market.agg_trades', where: mine }],
      // Records from before this stream first ran are not the loader's: it need not read
      // the live feed's backlog (days of trades on a broker) to find none of its own.
      firstStart: 'latest',
      progress: false,
    });
    // What an earlier attempt published and did not write yet: in the table before the
    // loader reads the table to decide what is missing.
    await sink.drain();
    if (ctx.params.kind === 'aggTrades') ctx.materialize(aggTrades, await loadAggTrades(ctx, sink));
    else ctx.materialize(klines, await loadKlines(ctx, sink));
  },
});

export default history.build({ steps: [schema, load] });
