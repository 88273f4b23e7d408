// Streams (issue 11, part 7): the connector against the engine's own JSON insert of the same
// rows, the Kafka data topics against the client library's own producer and consumer, the
// live loader's path (WebSocket → parse → order book → data topic) against parsing alone,
// and market-history's use of its weight budget. Each prints a ratio to its baseline.
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { Consumer, Producer, ProduceAcks } from '@platformatic/kafka';
import { WebSocket, WebSocketServer } from 'ws';
import { OrderBook, type DepthEvent } from '../pipelines/market-live/order-book.ts';
import { StreamClient } from '../pipelines/market-live/stream-client.ts';
import { TopicBatcher } from '../pipelines/market-live/topic-batcher.ts';
import { createKafkaDataTopics } from '../src/adapters/kafka/kafka-data-topics.ts';
import { createMemoryDataTopics } from '../src/adapters/memory-topics/memory-data-topics.ts';
import type { DataTopics } from '../src/ports/data-topics.ts';
import { loadConfig } from '../src/presets/config.ts';
import { openRuntime, type Runtime } from '../src/presets/runtime.ts';
import { startBinanceReplay } from '../src/replay/binance/binance-replay.ts';
import { klineRecords } from '../test/helpers/kline-records.ts';
import { captureMessages } from '../test/helpers/capture-reference.ts';
import { KLINES } from '../test/helpers/binance-data.ts';
import { BENCH_PIPELINES } from './dispatch.bench.ts';
import { KLINES_COLUMNS } from './pipelines/stream-connect.ts';

const SYMBOLS = ['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT'];
const MONTH_MS = 29 * 86_400_000;

/** The committed candles, `copies` times over (each copy a month later, so every key is new). */
function candles(copies: number): string[] {
  const base = SYMBOLS.flatMap(klineRecords);
  const out: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const k of base) out.push(JSON.stringify({ ...k, open_time: k.open_time + c * MONTH_MS, close_time: k.close_time + c * MONTH_MS }));
  }
  return out;
}

/**
 * Peak live heap growth while `fn` runs: sampled every 250 ms after a full collection (run
 * with --expose-gc), so garbage not yet collected does not count as memory held.
 */
async function peakHeap<T>(fn: () => Promise<T>): Promise<{ result: T; heapMb: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const t = setInterval(() => {
    globalThis.gc?.();
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }, 250);
  try {
    return { result: await fn(), heapMb: peak / 2 ** 20 };
  } finally {
    clearInterval(t);
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Rows/s of the connector over records already on the topic, and its heap growth while it ran. */
async function connectorOnce(rt: Runtime, lines: string[], sampleHeap: boolean): Promise<{ rowsPerS: number; heapMb: number }> {
  const wh = rt.services.warehouse;
  await wh.command('DROP TABLE IF EXISTS bench_stream.klines SYNC');
  await wh.command(`CREATE TABLE bench_stream.klines (${KLINES_COLUMNS}) ENGINE = MergeTree ORDER BY (symbol, open_time) SETTINGS non_replicated_deduplication_window = 1000`);
  for (let i = 0; i < lines.length; i += 20_000) await rt.services.topics.produce('sluice.data.bench-klines', lines.slice(i, i + 20_000).map((value, j) => ({ key: SYMBOLS[(i + j) % 4]!, value })));
  const measure = sampleHeap ? peakHeap : async <T>(fn: () => Promise<T>) => ({ result: await fn(), heapMb: Number.NaN });
  const { result: seconds, heapMb } = await measure(async () => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const { run, done } = await rt.coordinator.submit({ pipeline: 'bench-stream-connect' });
    await until(async () => Number((await wh.query<{ n: number }>('SELECT count() AS n FROM bench_stream.klines'))[0]!.n) >= lines.length, 600_000);
    const s = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    if (process.env.BENCH_DEBUG) console.log(`cpu ${((used.user + used.system) / 1e6).toFixed(2)} s over ${s.toFixed(2)} s wall`);
    await rt.coordinator.cancel(run.id, 'bench done');
    await done;
    return s;
  });
  return { rowsPerS: lines.length / seconds, heapMb };
}

/** The connector into the runtime's warehouse vs the engine's own `INSERT … FORMAT JSONEachRow` of the same rows from a file. */
export async function benchConnector(label: string, env: Record<string, string>, server: string | undefined): Promise<Record<string, number | string>> {
  const home = mkdtempSync(join(tmpdir(), 'sluice-bench-streams-'));
  const rt = await openRuntime(loadConfig({ env, cwd: process.cwd(), home, pipelines: [BENCH_PIPELINES], logLevel: 'warn' }));
  try {
    const wh = rt.services.warehouse;
    await wh.command('CREATE DATABASE IF NOT EXISTS bench_stream');
    const lines = candles(2);
    const file = join(home, 'klines.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    await wh.command('DROP TABLE IF EXISTS bench_stream.base SYNC');
    await wh.command(`CREATE TABLE bench_stream.base (${KLINES_COLUMNS}) ENGINE = MergeTree ORDER BY (symbol, open_time)`);
    let t = performance.now();
    if (server) {
      const client = createClient({ url: server });
      await client.exec({ query: 'INSERT INTO bench_stream.base FORMAT JSONEachRow', values: createReadStream(file) });
      await client.close();
    } else {
      await wh.command(`INSERT INTO bench_stream.base SELECT * FROM file('${file}', 'JSONEachRow', '${KLINES_COLUMNS.replaceAll('\n', ' ').replaceAll("'", "\\'")}')`);
    }
    const engine = lines.length / ((performance.now() - t) / 1000);
    t = performance.now();
    // Throughput without the heap sampler (its collections cost time); memory in runs of their own.
    const fast = await connectorOnce(rt, lines, false);
    const small = await connectorOnce(rt, lines.slice(0, lines.length / 4), true);
    const big = await connectorOnce(rt, lines, true);
    return {
      [`${label} rows`]: lines.length,
      'engine JSONEachRow rows/s': Math.round(engine),
      'connector rows/s': Math.round(fast.rowsPerS),
      ratio: fast.rowsPerS / engine,
      'heap peak MB at 1/4': small.heapMb,
      'heap peak MB at 1/1': big.heapMb,
    };
  } finally {
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Produce and consume 1 KB records through the Kafka data topics vs the client library alone, acks=all. */
export async function benchKafkaTopics(bootstrap: string, n = 100_000): Promise<Record<string, number | string>> {
  const prefix = `bench-${Date.now()}.`;
  const value = 'x'.repeat(1_000);
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${i % 64}`, value }));
  const topics: DataTopics = await createKafkaDataTopics({ bootstrap: [bootstrap], clientId: 'bench', topicPrefix: prefix });
  await topics.partitions('sluice.data.bench');
  let t = performance.now();
  for (let i = 0; i < n; i += 5_000) await topics.produce('sluice.data.bench', records.slice(i, i + 5_000));
  const ours = n / ((performance.now() - t) / 1000);
  const reader = await topics.reader('sluice.data.bench', { from: [], otherwise: 'earliest', buffer: 10_000 });
  t = performance.now();
  for (let got = 0; got < n;) got += (await reader.next(10_000, 1_000)).length;
  const oursRead = n / ((performance.now() - t) / 1000);
  await reader.close();

  const raw = new Producer({ clientId: 'bench-raw', bootstrapBrokers: [bootstrap], idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false });
  const full = `${prefix}sluice.data.bench`;
  const buf = Buffer.from(value);
  t = performance.now();
  for (let i = 0; i < n; i += 500) await raw.send({ messages: Array.from({ length: 500 }, (_, j) => ({ topic: full, key: Buffer.from(`k${(i + j) % 64}`), value: buf })) });
  const lib = n / ((performance.now() - t) / 1000);
  await raw.close();
  const consumer = new Consumer({ clientId: 'bench-raw', groupId: `${prefix}raw`, bootstrapBrokers: [bootstrap] });
  t = performance.now();
  const stream = await consumer.consume({ topics: [full], mode: 'earliest', autocommit: false });
  let seen = 0;
  for await (const _m of stream) if (++seen >= n) break;
  const libRead = n / ((performance.now() - t) / 1000);
  await stream.close();
  await consumer.close(true);
  await topics.close();
  return {
    'records (1 KB, acks=all)': n,
    'produce msg/s (ours)': Math.round(ours), 'produce msg/s (library)': Math.round(lib), 'produce ratio': ours / lib,
    'consume msg/s (ours)': Math.round(oursRead), 'consume msg/s (library)': Math.round(libRead), 'consume ratio': oursRead / libRead,
  };
}

/**
 * The live loader's path: a local WebSocket server floods the recorded NKNUSDT depth diffs
 * (renumbered so each continues the last) and aggregate trades; market-live's stream client,
 * order book and a data-topic produce per 200 ms handle them. Baseline: a bare client that
 * only parses the same messages. p99 is from a message's arrival to its record's ack.
 */
export async function benchLiveLoader(kafka?: string, rate?: number, n = 300_000): Promise<Record<string, number | string>> {
  const recorded = captureMessages();
  const diffs = recorded.filter((m) => m.stream === 'nknusdt@depth@100ms').map((m) => m.data as unknown as DepthEvent & Record<string, unknown>);
  const trade = recorded.find((m) => m.stream === 'nknusdt@aggTrade')!.data;
  const texts: string[] = [];
  let u = 1_000;
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) texts.push(JSON.stringify({ stream: 'nknusdt@aggTrade', data: { ...trade, a: i } }));
    else {
      const d = diffs[i % diffs.length]!;
      texts.push(JSON.stringify({ stream: 'nknusdt@depth@100ms', data: { ...d, U: u + 1, u: u + 1 } }));
      u += 1;
    }
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  // As fast as the socket takes them, or (with `rate`) that many a second in 10 ms slices.
  wss.on('connection', (ws, req) => {
    let i = 0;
    const paced = rate !== undefined && req.url?.includes('paced') === true;
    const started = performance.now();
    const pump = () => {
      const due = paced ? Math.min(texts.length, Math.floor(((performance.now() - started) / 1000) * rate)) : texts.length;
      while (i < due && ws.bufferedAmount < 4 << 20) ws.send(texts[i++]!);
      if (i < texts.length && paced) setTimeout(pump, 10);
      else if (i < texts.length) setImmediate(pump);
    };
    pump();
  });
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  try {
    // Baseline: parse only.
    let t = performance.now();
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${url}/stream`);
      let seen = 0;
      ws.on('message', (raw) => {
        JSON.parse(String(raw));
        if (++seen === n) {
          ws.terminate();
          resolve();
        }
      });
    });
    const parseOnly = n / ((performance.now() - t) / 1000);

    const topics = kafka
      ? await createKafkaDataTopics({ bootstrap: [kafka], clientId: 'bench-live', topicPrefix: `bench-live-${Date.now()}.` })
      : createMemoryDataTopics({ retentionBytes: 256 * 2 ** 20 });
    await topics.partitions('sluice.data.agg-trades');
    const book = new OrderBook('spot');
    book.onSnapshot({ lastUpdateId: 1_000, bids: [], asks: [] });
    const out = new TopicBatcher(topics);
    let seen = 0;
    const stop = new AbortController();
    const cpu0 = process.cpuUsage();
    t = performance.now();
    const client = new StreamClient({
      policy: { trust: 'trusted', roots: [], urlPrefixes: [], allowPrivateNetworks: true, connectTimeoutMs: 5_000, idleTimeoutMs: 5_000, maxBytes: 1 << 20 },
      wsUrl: rate === undefined ? url : `${url}/paced`, streams: ['nknusdt@depth@100ms', 'nknusdt@aggTrade'], signal: stop.signal,
      onMessage: (stream, data) => {
        seen++;
        const at = performance.now();
        if (stream.endsWith('@aggTrade')) out.push('sluice.data.agg-trades', 'NKNUSDT', { symbol: data.s, agg_trade_id: data.a, price: data.p, qty: data.q }, at);
        else book.onEvent(data as unknown as DepthEvent);
        if (seen === n) stop.abort();
      },
    });
    const running = client.run();
    // The feed's cadence: a flush every 20 ms.
    const flusher = (async () => {
      while (!stop.signal.aborted || out.waiting > 0) {
        await new Promise((r) => setTimeout(r, 20));
        await out.flush();
      }
    })();
    await running;
    await flusher;
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    await topics.close();
    return {
      topic: kafka ? 'Kafka (acks=all)' : 'in-process',
      'offered msg/s': rate ?? 'as fast as it goes',
      messages: n,
      'parse-only msg/s': Math.round(parseOnly),
      'loader msg/s': Math.round(n / seconds),
      'loader msg/s per CPU second': Math.round(n / cpuSeconds),
      ratio: n / seconds / parseOnly,
      'p99 receive → ack ms': out.latency(99),
      'book live after the flood': book.live ? 'yes' : `no (${book.lastResync})`,
    };
  } finally {
    await new Promise((r) => wss.close(r));
  }
}

/**
 * market-history for four symbols over February 2026 against the replay server. Budget used:
 * the weight its requests cost (klines pages of 1,500: weight 10) against what its share
 * (90%) of the limit allowed over the run's windows.
 */
export async function benchHistory(limits: { weightLimit?: number; weightWindowS?: number } = {}): Promise<Record<string, number | string>> {
  const replay = await startBinanceReplay({ dataDir: KLINES, ...limits });
  const home = mkdtempSync(join(tmpdir(), 'sluice-bench-history-'));
  const rt = await openRuntime(loadConfig({ env: {}, cwd: process.cwd(), home, logLevel: 'warn' }));
  try {
    const t = performance.now();
    const { done } = await rt.coordinator.submit({ pipeline: 'market-history', params: { from: '2026-02-01', to: '2026-03-01', baseUrl: replay.url }, allPartitions: true });
    const d = await done;
    const seconds = (performance.now() - t) / 1000;
    const m = (await rt.services.metadata.assets.latest(['market.klines']))[0];
    const limit = limits.weightLimit ?? 2400;
    const windowS = limits.weightWindowS ?? 60;
    // Windows the run touched: a run of 4.7 windows spends in 5.
    const allowed = limit * 0.9 * Math.max(1, Math.ceil(seconds / windowS));
    const spent = Number(m?.metadata.requests ?? 0) * 10;
    return {
      status: d.run.status, candles: m?.rows ?? 0, seconds, 'candles/s': Math.round((m?.rows ?? 0) / seconds),
      'requests': Number(m?.metadata.requests ?? 0), 'budget used %': (100 * spent) / allowed,
      'weight peak / budget %': (100 * Number(m?.metadata.weightPeak ?? 0)) / (limit * 0.9),
      '429 responses': replay.stats.limited, '418 responses': replay.stats.banned,
    };
  } finally {
    await rt.close();
    await replay.close();
    rmSync(home, { recursive: true, force: true });
  }
}
