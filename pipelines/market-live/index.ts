import { connector } from 'sluice';
import { runFeed } from './feed.ts';
import { live, TOPICS } from './market-live-pipeline.ts';
import { LIVE_DDL } from './schema.ts';

const schema = live.step({
  name: 'schema',
  description: 'creates the market database and the live tables (idempotent)',
  retry: { maxAttempts: 3, backoffMs: 500 },
  async run(ctx) {
    for (const ddl of LIVE_DDL) await ctx.warehouse.command(ddl);
  },
});

const feed = live.step({
  name: 'feed',
  deps: [schema],
  stream: true,
  description: 'WebSocket → order books → data topics (trades, closed candles, top-20 books once a second)',
  run: runFeed,
});

const connect = connector({
  name: 'connect',
  deps: [schema],
  description: 'data topics → market.agg_trades, market.klines, market.book_snapshots, exactly once',
  routes: [
    { topic: TOPICS.trades, table: 'market.agg_trades', where: (r) => r.source !== 'history', asset: live.asset({ name: 'market.agg_trades', description: 'aggregate trades by symbol and id (ReplacingMergeTree)' }) },
    // market-history publishes candles and trades on these topics too, and writes them itself.
    { topic: TOPICS.klines, table: 'market.klines', where: (r) => r.source !== 'history' },
    { topic: TOPICS.books, table: 'market.book_snapshots', asset: live.asset({ name: 'market.book_snapshots', description: 'top levels of each order book, once a second' }) },
  ],
});

export default live.build({ steps: [schema, feed, connect] });
