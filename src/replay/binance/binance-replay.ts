import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { readCapture, readDepthSnapshots, type CapturedMessage, type DepthSnapshot } from './capture.ts';
import { INTERVALS, KlinesStore } from './klines-store.ts';
import { WeightLimiter } from './weight-limiter.ts';
import { WsReplay, type ReplayFaults } from './ws-replay.ts';

export interface BinanceReplayOptions {
  /** A folder of `<SYMBOL>-1m-<YYYY-MM>.csv` klines (data.binance.vision's layout). */
  readonly dataDir: string;
  /** 0: any free port. Always on 127.0.0.1. */
  readonly port?: number;
  /** A cryptofeed WebSocket capture to replay; without it the WebSocket endpoints send nothing. */
  readonly wsCapture?: string;
  /** The REST depth snapshots recorded with the capture. */
  readonly depthSnapshots?: string;
  /** Request weight per window and client, per API (futures, spot); default the exchange's 2400 and 6000 a minute. */
  readonly weightLimit?: number;
  readonly weightWindowS?: number;
  readonly speed?: number;
  readonly faults?: ReplayFaults;
  readonly pingIntervalS?: number;
  readonly maxConnectionS?: number;
  readonly now?: () => number;
}

export interface BinanceReplay {
  /** REST base, e.g. http://127.0.0.1:29300 (futures under /fapi/v1, spot under /api/v3). */
  readonly url: string;
  /** WebSocket base, e.g. ws://127.0.0.1:29300 (`/stream?streams=…`, `/ws/<stream>`). */
  readonly wsUrl: string;
  /** Requests answered, refused with 429 and with 418, by API. */
  readonly stats: { requests: number; limited: number; banned: number };
  close(): Promise<void>;
}

type Api = 'futures' | 'spot';
interface Endpoint { readonly api: Api; readonly maxLimit: number; readonly defaultLimit: number }

const KLINES: Record<Api, Endpoint> = { futures: { api: 'futures', maxLimit: 1500, defaultLimit: 500 }, spot: { api: 'spot', maxLimit: 1000, defaultLimit: 500 } };
/** Depth snapshots are waited for at most this long (their replay time may be ahead). */
const MAX_DEPTH_WAIT_MS = 60_000;

// The exchange's published weights.
const futuresKlinesWeight = (limit: number) => (limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10);
const futuresDepthWeight = (limit: number) => (limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20);
const spotDepthWeight = (limit: number) => (limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250);

class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Binance offline, from real recordings: the USD-M futures and spot REST endpoints a market
 * loader uses, in the exchange's response shapes and with its request weights (429 with
 * Retry-After past the limit, 418 for a client that keeps going), and the WebSocket streams
 * of a capture replayed at its recorded pace. `sluice replay binance` runs it.
 *
 * @example
 * const replay = await startBinanceReplay({ dataDir: 'data/binance/klines', wsCapture: 'data/binance/ws/BINANCE.ws.1.0' });
 * await fetch(`${replay.url}/fapi/v1/klines?symbol=DOTUSDT&interval=1h&limit=24`);
 */
export async function startBinanceReplay(o: BinanceReplayOptions): Promise<BinanceReplay> {
  const now = o.now ?? Date.now;
  const klines = KlinesStore.load(o.dataDir);
  const capture = o.wsCapture ? readCapture(o.wsCapture) : { messages: [] as CapturedMessage[] };
  const snapshots = new Map<string, DepthSnapshot>((o.depthSnapshots ? readDepthSnapshots(o.depthSnapshots) : []).map((s) => [s.symbol, s]));
  const windowS = o.weightWindowS ?? 60;
  const limiters: Record<Api, WeightLimiter> = {
    futures: new WeightLimiter({ limit: o.weightLimit ?? 2400, windowS, now }),
    spot: new WeightLimiter({ limit: o.weightLimit ?? 6000, windowS, now }),
  };
  const weightHeader = `x-mbx-used-weight-${windowS % 60 === 0 ? `${windowS / 60}m` : `${windowS}s`}`;
  const ws = new WsReplay({
    messages: capture.messages, speed: o.speed ?? 1, faults: o.faults ?? {}, now,
    pingIntervalMs: (o.pingIntervalS ?? 180) * 1000, maxConnectionMs: (o.maxConnectionS ?? 86_400) * 1000,
  });
  const stats = { requests: 0, limited: 0, banned: 0 };
  const aggTrades = capture.messages.filter((m) => m.data.e === 'aggTrade').map((m) => m.data);

  const app = Fastify({ logger: false, bodyLimit: 1024, connectionTimeout: 30_000, requestTimeout: 30_000 });

  // Weight first, as the exchange does: a refused request costs nothing and says when to return.
  const weigh = (api: Api, weight: number) => (req: FastifyRequest, reply: FastifyReply): boolean => {
    stats.requests++;
    const d = limiters[api].take(req.ip, weight);
    void reply.header(weightHeader, String(d.used)).header('x-mbx-used-weight', String(d.used));
    if (d.kind === 'ok') return true;
    void reply.header('retry-after', String(d.retryAfterS));
    if (d.kind === 'limited') {
      stats.limited++;
      void reply.code(429).send({ code: -1003, msg: `Too many requests; current limit of IP(${req.ip}) request weight is exceeded. Please use WebSocket Streams for live updates to avoid polling the API.` });
    } else {
      stats.banned++;
      void reply.code(418).send({ code: -1003, msg: `Way too many requests; IP(${req.ip}) banned until ${now() + d.retryAfterS * 1000}. Please use WebSocket Streams for live updates to avoid bans.` });
    }
    return false;
  };

  const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined || v === '') return undefined;
    if (!/^\d{1,20}$/.test(v)) throw new ApiError(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
    return Number(v);
  };
  const timesOf = (req: FastifyRequest): { startTime?: number; endTime?: number } => {
    const startTime = int(q(req).startTime, 'startTime');
    const endTime = int(q(req).endTime, 'endTime');
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) throw new ApiError(400, -1023, 'Start time is greater than end time.');
    return { startTime, endTime };
  };
  const symbolOf = (req: FastifyRequest, known: (s: string) => boolean): string => {
    const s = q(req).symbol;
    if (!s) throw new ApiError(400, -1102, 'Mandatory parameter \'symbol\' was not sent, was empty/null, or malformed.');
    if (!known(s.toUpperCase())) throw new ApiError(400, -1121, 'Invalid symbol.');
    return s.toUpperCase();
  };
  const limitOf = (req: FastifyRequest, e: { defaultLimit: number; maxLimit: number }): number => {
    const limit = int(q(req).limit, 'limit') ?? e.defaultLimit;
    if (limit < 1 || limit > e.maxLimit) throw new ApiError(400, -1130, `Data sent for parameter 'limit' is not valid (1 to ${e.maxLimit}).`);
    return limit;
  };

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ code: err.code, msg: err.message });
    return reply.code(500).send({ code: -1000, msg: `An unknown error occurred while processing the request: ${String((err as Error).message).slice(0, 200)}` });
  });

  for (const api of ['futures', 'spot'] as const) {
    const base = api === 'futures' ? '/fapi/v1' : '/api/v3';
    app.get(`${base}/klines`, (req, reply) => {
      const limit = limitOf(req, KLINES[api]);
      if (!weigh(api, api === 'futures' ? futuresKlinesWeight(limit) : 2)(req, reply)) return reply;
      const symbol = symbolOf(req, (s) => klines.has(s));
      const interval = q(req).interval ?? '';
      if (!INTERVALS[interval]) throw new ApiError(400, -1120, 'Invalid interval.');
      const { startTime, endTime } = timesOf(req);
      return klines.query(symbol, interval, { startTime, endTime, limit });
    });
    app.get(`${base}/time`, (req, reply) => (weigh(api, 1)(req, reply) ? { serverTime: now() } : reply));
    app.get(`${base}/exchangeInfo`, (req, reply) => {
      if (!weigh(api, api === 'futures' ? 1 : 20)(req, reply)) return reply;
      const symbols = api === 'futures' ? klines.symbols() : [...new Set([...klines.symbols(), ...snapshots.keys()])].sort();
      return {
        timezone: 'UTC', serverTime: now(),
        rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: windowS % 60 === 0 ? 'MINUTE' : 'SECOND', intervalNum: windowS % 60 === 0 ? windowS / 60 : windowS, limit: api === 'futures' ? o.weightLimit ?? 2400 : o.weightLimit ?? 6000 }],
        exchangeFilters: [],
        symbols: symbols.map((symbol) => ({ symbol, status: 'TRADING', ...assets(symbol), ...(api === 'futures' ? { contractType: 'PERPETUAL', pair: symbol } : {}) })),
      };
    });
    app.get(`${base}/depth`, async (req, reply) => {
      const limit = limitOf(req, { defaultLimit: api === 'futures' ? 500 : 100, maxLimit: api === 'futures' ? 1000 : 5000 });
      if (!weigh(api, api === 'futures' ? futuresDepthWeight(limit) : spotDepthWeight(limit))(req, reply)) return reply;
      const symbol = symbolOf(req, (s) => snapshots.has(s));
      const snap = snapshots.get(symbol)!;
      // Answered when the replay reaches the moment it was taken, so its lastUpdateId fits the stream.
      const wait = Math.min(ws.msUntil(snap.at), MAX_DEPTH_WAIT_MS);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return { lastUpdateId: snap.body.lastUpdateId, ...(api === 'futures' ? { E: snap.at, T: snap.at } : {}), bids: snap.body.bids.slice(0, limit), asks: snap.body.asks.slice(0, limit) };
    });
    app.get(`${base}/aggTrades`, (req, reply) => {
      const limit = limitOf(req, { defaultLimit: 500, maxLimit: 1000 });
      if (!weigh(api, api === 'futures' ? 20 : 4)(req, reply)) return reply;
      const symbol = symbolOf(req, (s) => aggTrades.some((t) => t.s === s));
      const fromId = int(q(req).fromId, 'fromId');
      const { startTime, endTime } = timesOf(req);
      if (startTime !== undefined && endTime !== undefined && endTime - startTime >= 3_600_000) throw new ApiError(400, -1127, 'More than 1 hours between startTime and endTime.');
      const mine = aggTrades.filter((t) => t.s === symbol);
      // With no id and no time, the most recent trades, as the exchange answers.
      const picked = fromId === undefined && startTime === undefined && endTime === undefined
        ? mine.slice(-limit)
        : mine.filter((t) => (fromId === undefined || Number(t.a) >= fromId) && (startTime === undefined || Number(t.T) >= startTime) && (endTime === undefined || Number(t.T) <= endTime)).slice(0, limit);
      return picked
        .map((t) => ({ a: t.a, p: t.p, q: t.q, f: t.f, l: t.l, T: t.T, m: t.m, ...(api === 'spot' ? { M: true } : {}) }));
    });
  }

  app.server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  await app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    stats,
    close: async () => {
      await ws.close();
      await app.close();
    },
  };
}

const QUOTES = ['USDT', 'USDC', 'BUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];
function assets(symbol: string): { baseAsset: string; quoteAsset: string } {
  const quote = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? symbol.slice(-4);
  return { baseAsset: symbol.slice(0, -quote.length), quoteAsset: quote };
}
