import { fetchJson, sleep } from 'sluice';
import { ENDPOINTS, TOPICS, type LiveContext } from './market-live-pipeline.ts';
import { OrderBook, type DepthEvent, type DepthSnapshot } from './order-book.ts';
import { StreamClient } from './stream-client.ts';
import { TopicBatcher } from './topic-batcher.ts';

/** Records go to their topic within this of arriving (p99 arrival → ack stays in tens of ms). */
const FLUSH_EVERY_MS = 20;
const SNAPSHOT_EVERY_MS = 1_000;
/** A symbol's depth snapshots are at least this far apart (each costs request weight). */
const SNAPSHOT_SPACING_MS = 1_000;

type Row = Record<string, unknown>;

/**
 * The live loader: one combined WebSocket subscription (aggTrade, depth@100ms, kline_1m,
 * bookTicker per symbol), an order book per symbol kept by the market's rules (a gap or a
 * new connection resyncs it from a REST snapshot), and records on the data topics: every
 * aggregate trade, every closed candle, and the top levels of each live book once a second
 * and once more when the stream stops.
 */
export async function runFeed(ctx: LiveContext): Promise<void> {
  const p = ctx.params;
  const stream = ctx.stream;
  if (!stream) throw new Error('market-live feed runs as a stream step');
  const endpoint = ENDPOINTS[p.market];
  const baseUrl = (p.baseUrl ?? endpoint.baseUrl).replace(/\/$/, '');
  const wsUrl = p.wsUrl ?? endpoint.wsUrl;
  const books = new Map(p.symbols.map((s) => [s, new OrderBook(p.market)]));
  const out = new TopicBatcher(ctx.topics);
  const counters: Record<string, number> = { agg_trades: 0, depth_updates: 0, klines: 0, book_tickers: 0, book_snapshots: 0, resyncs: 0, reconnects: 0, records_out: 0 };
  const fetching = new Set<string>();
  const lastFetch = new Map<string, number>();
  let failure: Error | null = null;

  // A topic that cannot keep up fails the attempt (it is restarted) rather than holding memory without bound.
  const queue = (kind: keyof typeof TOPICS, key: string, row: Row) => {
    if (!out.push(TOPICS[kind], key, row)) failure ??= new Error(`${TOPICS[kind]} cannot keep up: too many records waiting`);
  };

  // One snapshot per symbol in flight; the book buffers the stream meanwhile.
  const snapshot = async (symbol: string) => {
    if (fetching.has(symbol) || ctx.signal.aborted) return;
    // A snapshot that did not join the stream is asked for again on a later diff, not in a tight loop.
    if (Date.now() - (lastFetch.get(symbol) ?? 0) < SNAPSHOT_SPACING_MS) return;
    lastFetch.set(symbol, Date.now());
    fetching.add(symbol);
    try {
      const r = await fetchJson(ctx.sources, `${baseUrl}${endpoint.depthPath}?symbol=${symbol}&limit=1000`, { signal: ctx.signal });
      if (r.status !== 200) ctx.log.warn(`depth snapshot of ${symbol}: HTTP ${r.status}`);
      else if (!books.get(symbol)?.onSnapshot(r.body as DepthSnapshot)) ctx.log.info(`depth snapshot of ${symbol} is behind the stream; asking again`);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.log.warn(`depth snapshot of ${symbol} failed: ${(err as Error).message}`);
    } finally {
      fetching.delete(symbol);
    }
  };

  const onMessage = (name: string, data: Record<string, unknown>) => {
    const kind = name.slice(name.indexOf('@') + 1);
    const symbol = String(data.s ?? '');
    if (kind === 'aggTrade') {
      counters.agg_trades += 1;
      queue('trades', symbol, {
        symbol, agg_trade_id: data.a, price: data.p, qty: data.q, first_trade_id: data.f, last_trade_id: data.l, trade_time: data.T, is_buyer_maker: data.m,
      });
    } else if (kind.startsWith('depth')) {
      counters.depth_updates += 1;
      const book = books.get(symbol);
      if (!book) return;
      const outcome = book.onEvent(data as unknown as DepthEvent);
      if (outcome === 'resync') {
        counters.resyncs += 1;
        ctx.log.warn(`order book ${symbol} resyncs: ${book.lastResync}`);
      }
      if (book.needsSnapshot) void snapshot(symbol);
    } else if (kind.startsWith('kline')) {
      const k = data.k as Record<string, unknown> | undefined;
      // Only a closed candle is final; the open one changes with every trade.
      if (!k || k.x !== true) return;
      counters.klines += 1;
      queue('klines', `${symbol}/${k.t}`, {
        source: 'live', symbol, interval: k.i, open_time: k.t, open: k.o, high: k.h, low: k.l, close: k.c, volume: k.v, close_time: k.T,
        quote_volume: k.q, trades: k.n, taker_buy_volume: k.V, taker_buy_quote_volume: k.Q,
      });
    } else if (kind === 'bookTicker') counters.book_tickers += 1;
  };

  const snapshots = () => {
    const ts = Date.now();
    for (const [symbol, book] of books) {
      if (!book.live) continue;
      const top = book.top(p.depth);
      counters.book_snapshots += 1;
      queue('books', symbol, { symbol, ts, last_update_id: book.lastUpdateId, bids: top.bids, asks: top.asks });
    }
  };

  const flush = async () => {
    await out.flush();
    counters.records_out = out.produced;
  };

  const stopClient = new AbortController();
  const client = new StreamClient({
    policy: ctx.sources,
    wsUrl,
    streams: p.symbols.flatMap((s) => ['aggTrade', 'depth@100ms', 'kline_1m', 'bookTicker'].map((k) => `${s.toLowerCase()}@${k}`)),
    idleMs: p.idleMs,
    signal: stopClient.signal,
    onMessage,
    // A new connection's diffs do not continue the old one's: every book starts again.
    onConnect: (n) => {
      for (const [symbol, book] of books) {
        if (n > 1 && book.live) counters.resyncs += 1;
        books.set(symbol, new OrderBook(p.market));
        lastFetch.delete(symbol);
        void snapshot(symbol);
      }
    },
    onDisconnect: (reason) => {
      counters.reconnects += 1;
      ctx.log.info(`WebSocket ${wsUrl} dropped (${reason}); reconnecting`);
    },
  });
  const running = client.run();
  running.catch((err: unknown) => (failure ??= err as Error));

  let lastSnapshot = Date.now();
  const report = (state: 'running' | 'stopping') => {
    const messages = Object.values(client.stats.messages).reduce((n, m) => n + m, 0);
    stream.status({ state, counters: { ...counters, messages }, message: `${books.size} books, ${[...books.values()].filter((b) => b.live).length} live; p99 to the topic ${out.latency(99).toFixed(1)} ms` });
    ctx.progress(counters.records_out, { message: `${counters.agg_trades} trades, ${counters.book_snapshots} book snapshots, ${counters.resyncs} resyncs` });
  };
  try {
    while (!ctx.signal.aborted) {
      if (failure) throw failure;
      await sleep(FLUSH_EVERY_MS, ctx.signal).catch(() => undefined);
      if (Date.now() - lastSnapshot >= SNAPSHOT_EVERY_MS) {
        lastSnapshot = Date.now();
        snapshots();
        report('running');
      }
      await flush();
    }
  } finally {
    stopClient.abort();
    await running.catch(() => undefined);
  }
  // Stopped: the books as they are now, one last time.
  snapshots();
  await flush();
  report('stopping');
}
