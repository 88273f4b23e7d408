import type { TopicSink } from 'sluice';
import { KLINES_TOPIC, type HistoryContext } from './market-history-pipeline.ts';
import { missingRanges, pages, type Range } from './ranges.ts';
import { budgetOf, weightedGet } from './weighted-get.ts';
import type { WeightBudget } from './weight-budget.ts';


const STEP_MS: Record<HistoryContext['params']['interval'], number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
/** The futures API's largest klines page, and its weight (limit > 1000: 10). */
const PAGE = 1500;
const PAGE_WEIGHT = 10;
const MAX_WINDOW_MS = 92 * 86_400_000;

type Ctx = HistoryContext;
/** The loader's own sink of the data topics (index.ts). */
export type HistorySink = TopicSink<Ctx['params'], Ctx['partition']>;
type Kline = [number, string, string, string, string, string, number, string, number, string, string, string];

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** The window a run loads: its partition's day, or the `from`/`to` params (ISO dates or times, `to` exclusive). */
export function windowOf(ctx: Pick<Ctx, 'partition' | 'params'>): Range {
  const from = Date.parse(ctx.partition?.start ?? ctx.params.from ?? '');
  const to = Date.parse(ctx.partition?.end ?? ctx.params.to ?? '');
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new Error('market-history needs a partition (--partition YYYY-MM-DD) or params from and to (ISO dates, from before to)');
  }
  // The table's candles of the window are held in memory to find what is missing: bounded.
  if (to - from > MAX_WINDOW_MS) throw new Error(`market-history loads at most 92 days per run (from ${ctx.params.from} to ${ctx.params.to} is longer); use sluice backfill for more`);
  return { from, to };
}

/**
 * Loads the klines of every symbol for the run's window into market.klines through the data
 * topic: only the candles the table does not have yet (so a rerun or a resumed kill fetches
 * nothing twice), pages fetched concurrently within the exchange's weight budget and
 * published to sluice.data.klines, written from there by `sink` (exactly once) after each
 * symbol; ranges the source has no candles for are fetched once more and then recorded in
 * market.kline_gaps. The sink has drained what earlier attempts published (index.ts).
 */
export async function loadKlines(ctx: Ctx, sink: HistorySink): Promise<{ rows: number; metadata: Record<string, unknown> }> {
  const { interval } = ctx.params;
  const step = STEP_MS[interval];
  const window = windowOf(ctx);
  // Candles that have not closed yet are not missing.
  const until = Math.min(window.to, Math.floor(Date.now() / step) * step);
  const budget = await budgetOf(ctx);
  const perSymbol: Record<string, number> = {};
  const gaps: { symbol: string; from: string; to: string; candles: number }[] = [];
  let published = 0;
  let requests = 0;
  const report = () => sink.report('running', { requests, candles_published: published }).catch(() => undefined);
  const expected = ctx.params.symbols.length * Math.max(0, Math.ceil((until - window.from) / step));
  let present = 0;
  const counted: Set<number>[] = [];
  for (const symbol of ctx.params.symbols) {
    const have = await presentTimes(ctx, symbol, window.from, until);
    counted.push(have);
    present += have.size;
  }
  ctx.progress(present, { total: expected, message: 'candles in market.klines' });

  for (const [i, symbol] of ctx.params.symbols.entries()) {
    const have = counted[i]!;
    perSymbol[symbol] = 0;
    // A first pass, then one more over what is still missing: a page the source answered short.
    for (let pass = 1; pass <= 2; pass++) {
      const todo = pages(missingRanges(window.from, until, step, have), step, PAGE);
      if (todo.length === 0) break;
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const page = todo[next++]!;
          const rows = await fetchPage(ctx, budget, symbol, page);
          requests++;
          const fresh = rows.filter((k) => k[0] >= page.from && k[0] < page.to && !have.has(k[0]));
          if (fresh.length > 0) await publish(ctx, symbol, fresh);
          for (const k of fresh) have.add(k[0]);
          published += fresh.length;
          perSymbol[symbol]! += fresh.length;
          present += fresh.length;
          ctx.progress(present, { total: expected, message: `candles published to ${KLINES_TOPIC} (${symbol})` });
          void report();
        }
      };
      await Promise.all(Array.from({ length: Math.min(ctx.params.concurrency, todo.length) }, worker));
    }
    // The symbol's candles written before the next one is fetched: the topic holds one symbol's window at most.
    const { records_out } = await sink.drain();
    ctx.progress(present, { total: expected, message: `${records_out} candles written to market.klines` });
    for (const g of missingRanges(window.from, until, step, have)) {
      const candles = (g.to - g.from) / step;
      gaps.push({ symbol, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), candles });
      ctx.log.warn(`market-history: the source has no ${interval} candles for ${symbol} from ${new Date(g.from).toISOString()} to ${new Date(g.to).toISOString()} (${candles}), recorded in market.kline_gaps`);
    }
  }
  if (gaps.length > 0) {
    await ctx.warehouse.insertRows('market.kline_gaps', gaps.map((g) => ({
      symbol: g.symbol, interval, gap_from: iso(Date.parse(g.from)), gap_to: iso(Date.parse(g.to)), candles: g.candles, run_id: ctx.runId,
    })));
  }
  await report();
  return {
    rows: sink.counters.records_out,
    metadata: { published, window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() }, interval, perSymbol, gaps, requests, weightPeak: budget.usage.peak, rateLimited: budget.usage.limited },
  };
}

async function presentTimes(ctx: Ctx, symbol: string, from: number, to: number): Promise<Set<number>> {
  const rows = await ctx.warehouse.query<{ t: string | number }>(
    'SELECT toUnixTimestamp64Milli(open_time) AS t FROM market.klines WHERE symbol = {symbol:String} AND interval = {interval:String} AND open_time >= fromUnixTimestamp64Milli({from:Int64}) AND open_time < fromUnixTimestamp64Milli({to:Int64})',
    { symbol, interval: ctx.params.interval, from, to },
  );
  return new Set(rows.map((r) => Number(r.t)));
}

async function fetchPage(ctx: Ctx, budget: WeightBudget, symbol: string, page: Range): Promise<Kline[]> {
  const limit = Math.round((page.to - page.from) / STEP_MS[ctx.params.interval]);
  const url = `${ctx.params.baseUrl}/fapi/v1/klines?symbol=${encodeURIComponent(symbol)}&interval=${ctx.params.interval}&startTime=${page.from}&endTime=${page.to - 1}&limit=${Math.min(PAGE, limit)}`;
  return validKlines(await weightedGet(ctx, budget, url, PAGE_WEIGHT, symbol), url);
}

function validKlines(body: unknown, url: string): Kline[] {
  if (!Array.isArray(body)) throw new Error(`${url}: expected an array of klines, got ${typeof body}`);
  body.forEach((k, i) => {
    if (!Array.isArray(k) || k.length < 11 || typeof k[0] !== 'number' || typeof k[6] !== 'number' || typeof k[8] !== 'number'
      || [1, 2, 3, 4, 5, 7, 9, 10].some((j) => typeof k[j] !== 'string' || !/^\d+(\.\d+)?$/.test(k[j] as string))) {
      throw new Error(`${url}: kline ${i} is not [openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades, "takerBuyVolume", "takerBuyQuoteVolume", …]: ${JSON.stringify(k).slice(0, 200)}`);
    }
  });
  return body as Kline[];
}

/** The candles as records of the data topic, keyed by symbol and open time; `source` tells the sinks of the topic whose they are. */
async function publish(ctx: Ctx, symbol: string, rows: readonly Kline[]): Promise<void> {
  const interval = ctx.params.interval;
  await ctx.topics.produce(KLINES_TOPIC, rows.map((k) => ({
    key: `${symbol}/${k[0]}`,
    value: JSON.stringify({
      symbol, interval, open_time: k[0], open: k[1], high: k[2], low: k[3], close: k[4], volume: k[5], close_time: k[6],
      quote_volume: k[7], trades: k[8], taker_buy_volume: k[9], taker_buy_quote_volume: k[10], source: 'history',
    }),
  })));
}
