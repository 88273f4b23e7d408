import type { HistorySink } from './load-klines.ts';
import { windowOf } from './load-klines.ts';
import { AGG_TRADES_TOPIC, type HistoryContext } from './market-history-pipeline.ts';
import { budgetOf, weightedGet } from './weighted-get.ts';

const HOUR_MS = 3_600_000;
/** The futures API's largest aggTrades page, and its weight. */
const PAGE = 1000;
const PAGE_WEIGHT = 20;

interface AggTrade { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean }

/**
 * Loads the aggregate trades of every symbol for the run's window into market.agg_trades
 * through sluice.data.agg-trades. The exchange answers by time only for less than an hour,
 * so an hour is asked for by time until a trade is found, then pages follow by id (ids are
 * consecutive per symbol) up to the window's end. The table is the checkpoint: trades land
 * in id order, so a killed load continues after the highest id it holds for the window.
 * A jump in ids (trades the source does not have) is reported, never silent.
 */
export async function loadAggTrades(ctx: HistoryContext, sink: HistorySink): Promise<{ rows: number; metadata: Record<string, unknown> }> {
  const window = windowOf(ctx);
  const until = Math.min(window.to, Date.now());
  const budget = await budgetOf(ctx);
  const perSymbol: Record<string, number> = {};
  const idGaps: { symbol: string; fromId: number; toId: number }[] = [];
  let published = 0;
  let requests = 0;
  for (const symbol of ctx.params.symbols) {
    const [held] = await ctx.warehouse.query<{ n: number | string; top: number | string }>(
      'SELECT count() AS n, max(agg_trade_id) AS top FROM market.agg_trades WHERE symbol = {symbol:String} AND trade_time >= fromUnixTimestamp64Milli({from:Int64}) AND trade_time < fromUnixTimestamp64Milli({to:Int64})',
      { symbol, from: window.from, to: until },
    );
    let fromId = Number(held?.n ?? 0) > 0 ? Number(held!.top) + 1 : undefined;
    let hour = window.from;
    let previous = fromId === undefined ? undefined : fromId - 1;
    perSymbol[symbol] = 0;
    for (;;) {
      if (fromId === undefined && hour >= until) break;
      const base = `${ctx.params.baseUrl}/fapi/v1/aggTrades?symbol=${encodeURIComponent(symbol)}&limit=${PAGE}`;
      const url = fromId === undefined ? `${base}&startTime=${hour}&endTime=${Math.min(hour + HOUR_MS, until) - 1}` : `${base}&fromId=${fromId}`;
      const trades = validTrades(await weightedGet(ctx, budget, url, PAGE_WEIGHT, symbol), url);
      requests++;
      const mine = trades.filter((t) => t.T >= window.from && t.T < until);
      for (const t of mine) {
        if (previous !== undefined && t.a > previous + 1) {
          idGaps.push({ symbol, fromId: previous + 1, toId: t.a - 1 });
          ctx.log.warn(`market-history: the source has no aggregate trades ${previous + 1} to ${t.a - 1} of ${symbol} (${t.a - previous - 1})`);
        }
        previous = t.a;
      }
      if (mine.length > 0) {
        await ctx.topics.produce(AGG_TRADES_TOPIC, mine.map((t) => ({
          key: symbol,
          value: JSON.stringify({ source: 'history', symbol, agg_trade_id: t.a, price: t.p, qty: t.q, first_trade_id: t.f, last_trade_id: t.l, trade_time: t.T, is_buyer_maker: t.m }),
        })));
        published += mine.length;
        perSymbol[symbol] += mine.length;
        ctx.progress(published, { message: `aggregate trades published to ${AGG_TRADES_TOPIC} (${symbol})` });
        void sink.report('running', { requests, trades_published: published }).catch(() => undefined);
      }
      if (fromId === undefined && trades.length < PAGE) {
        // The hour is done by time; the next one is asked for by time as well.
        hour += HOUR_MS;
        continue;
      }
      // By id: done past the window's end, or when the source has nothing newer.
      if (trades.length === 0 || trades.some((t) => t.T >= until) || (fromId !== undefined && trades.length < PAGE)) break;
      const next = trades.at(-1)!.a + 1;
      // A source that answers a page by id with ids before it would have this loop run for ever.
      if (fromId !== undefined && next <= fromId) throw new Error(`${url}: the page ends at id ${next - 1}, before the fromId asked for`);
      fromId = next;
    }
    await sink.drain();
  }
  await sink.report('running', { requests, trades_published: published });
  return {
    rows: sink.counters.records_out,
    metadata: { published, window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() }, perSymbol, idGaps, requests, weightPeak: budget.usage.peak, rateLimited: budget.usage.limited },
  };
}

function validTrades(body: unknown, url: string): AggTrade[] {
  if (!Array.isArray(body)) throw new Error(`${url}: expected an array of aggregate trades, got ${typeof body}`);
  body.forEach((t, i) => {
    const x = t as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || !Number.isSafeInteger(x.a) || !Number.isSafeInteger(x.f) || !Number.isSafeInteger(x.l) || !Number.isSafeInteger(x.T)
      || typeof x.m !== 'boolean' || typeof x.p !== 'string' || typeof x.q !== 'string' || !/^\d+(\.\d+)?$/.test(x.p) || !/^\d+(\.\d+)?$/.test(x.q)) {
      throw new Error(`${url}: aggregate trade ${i} is not {a, p, q, f, l, T, m}: ${JSON.stringify(t).slice(0, 200)}`);
    }
  });
  // In id order, as the exchange sends them: the checkpoint and the gap check rely on it.
  return (body as AggTrade[]).toSorted((x, y) => x.a - y.a);
}
