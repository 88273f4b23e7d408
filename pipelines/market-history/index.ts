import { history } from './market-history-pipeline.ts';
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
  description: 'fetches the candles market.klines does not have yet, pages in parallel within the weight budget; records source gaps',
  assets: [klines],
  retry: { maxAttempts: 3, backoffMs: 2000 },
  timeoutMs: 60 * 60_000,
  async run(ctx) {
    const { rows, metadata } = await loadKlines(ctx);
    ctx.materialize(klines, { rows, metadata });
  },
});

export default history.build({ steps: [schema, load] });
