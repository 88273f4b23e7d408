import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Runtime } from '../../src/presets/runtime.ts';
import { startBinanceReplay } from '../../src/replay/binance/binance-replay.ts';
import { parseFaults } from '../../src/replay/binance/ws-replay.ts';
import { CAPTURE, KLINES, SNAPSHOTS } from '../helpers/binance-data.ts';
import { captureMessages, referenceBooks } from '../helpers/capture-reference.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';
import { until } from '../helpers/until.ts';

// market-live on the recorded spot capture through `sluice replay binance`: the feed keeps the
// books by the exchange's rules, the connector writes trades and book snapshots, and a stop
// ends the run cleanly with a last snapshot. Then again with a dropped connection and a
// skipped depth diff: a reconnect, a resync, and still the right books.
const SYMBOLS = 'NKNUSDT,BLZETH,LRCBTC,RUNEEUR';
const dir = tempHome();
let rt: Runtime;
const messages = captureMessages();
const depthTotal = messages.filter((m) => m.data.e === 'depthUpdate').length;
const trades = messages.filter((m) => m.data.e === 'aggTrade').map((m) => m.data);
const uniqueTrades = new Set(trades.map((t) => `${t.s}/${t.a}`)).size;

before(async () => {
  rt = await openTestRuntime(dir.home);
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

/** What a stream of this run reported last (a report of an earlier run does not count). */
const reportOf = (runId: string, step: string) => {
  const r = rt.coordinator.streamReport(`market-live.${step}`);
  return r?.runId === runId ? r : undefined;
};

/** Runs market-live on a replay server until the whole capture went through, stops it, returns the run. */
async function liveRun(faults = '') {
  const replay = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 20, faults: parseFaults(faults) });
  try {
    const startedAt = Date.now();
    const { run, done } = await rt.coordinator.submit({
      pipeline: 'market-live', params: { symbols: SYMBOLS, market: 'spot', baseUrl: replay.url, wsUrl: replay.wsUrl, idleMs: 60_000 },
    });
    // Every depth diff of a clean connection seen (the faulty first one sends fewer), books live, rows in.
    await until('the capture replayed', () => (reportOf(run.id, 'feed')?.counters.depth_updates ?? 0) >= depthTotal && reportOf(run.id, 'feed')?.message?.startsWith('4 books, 4 live;') === true);
    // Every trade and a book of each symbol in the tables (the feed keeps publishing books, so lag is rarely 0 for long).
    await until('the connector wrote the trades and books', async () => {
      const [t] = await rt.services.warehouse.query<{ n: number }>('SELECT uniqExact(symbol, agg_trade_id) AS n FROM market.agg_trades');
      const [b] = await rt.services.warehouse.query<{ n: number }>(`SELECT uniqExact(symbol) AS n FROM market.book_snapshots WHERE ts >= fromUnixTimestamp64Milli(${startedAt})`);
      return Number(t!.n) >= uniqueTrades && Number(b!.n) === 4 && (reportOf(run.id, 'connect')?.counters.records_out ?? 0) > 0;
    });
    assert.ok(await rt.coordinator.cancel(run.id, 'stopped by the test'));
    const detail = await done;
    return { detail, counters: reportOf(run.id, 'feed')?.counters ?? {} };
  } finally {
    await replay.close();
  }
}

async function latestBooks() {
  return rt.services.warehouse.query<{ symbol: string; last_update_id: number; bids: string; asks: string }>(
    `SELECT symbol, argMax(last_update_id, ts) AS last_update_id, toJSONString(argMax(bids, ts)) AS bids, toJSONString(argMax(asks, ts)) AS asks
     FROM market.book_snapshots FINAL GROUP BY symbol ORDER BY symbol`,
  );
}

function assertBooksMatch(rows: Awaited<ReturnType<typeof latestBooks>>): void {
  const reference = referenceBooks(20);
  assert.equal(rows.length, 4, 'a book for each symbol');
  // Named tuple elements print as objects.
  const dec = (levels: ({ price: string | number; qty: string | number } | [string, string])[]) =>
    levels.map((l) => (Array.isArray(l) ? [Number(l[0]), Number(l[1])] : [Number(l.price), Number(l.qty)]));
  for (const r of rows) {
    const ref = reference.get(r.symbol)!;
    assert.equal(Number(r.last_update_id), ref.lastUpdateId, `${r.symbol}: last update id`);
    assert.deepEqual(dec(JSON.parse(r.bids)), dec(ref.bids), `${r.symbol}: bids`);
    assert.deepEqual(dec(JSON.parse(r.asks)), dec(ref.asks), `${r.symbol}: asks`);
  }
}

test('the spot capture at 20× speed: books equal the reference, every trade once, a clean stop', async () => {
  const { detail, counters } = await liveRun();
  assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.run));
  assert.deepEqual(detail.steps.map((s) => [s.step, s.status]), [['schema', 'succeeded'], ['feed', 'succeeded'], ['connect', 'succeeded']]);
  assert.equal(counters.depth_updates, depthTotal);
  assert.equal(counters.agg_trades, trades.length);
  assert.equal(counters.resyncs, 0);
  assertBooksMatch(await latestBooks());
  const rows = await rt.services.warehouse.query<{ symbol: string; id: number; price: string; qty: string; t: number; m: boolean }>(
    'SELECT symbol, agg_trade_id AS id, toString(price) AS price, toString(qty) AS qty, toUnixTimestamp64Milli(trade_time) AS t, is_buyer_maker AS m FROM market.agg_trades ORDER BY symbol, id',
  );
  assert.equal(rows.length, uniqueTrades, 'each aggregate trade once (no FINAL)');
  for (const r of rows) {
    const t = trades.find((x) => x.s === r.symbol && Number(x.a) === Number(r.id))!;
    assert.deepEqual([Number(r.price), Number(r.qty), Number(r.t), r.m], [Number(t.p), Number(t.q), Number(t.T), t.m]);
  }
  const [snaps] = await rt.services.warehouse.query<{ n: number }>('SELECT count() AS n FROM market.book_snapshots');
  assert.ok(Number(snaps!.n) >= 8, `a snapshot a second per book and one at the stop (${snaps!.n})`);
});

test('a dropped connection and a skipped depth diff: reconnect, resync, and the books are right again', async () => {
  const { detail, counters } = await liveRun('drop-after=60,skip-depth=5');
  assert.equal(detail.run.status, 'succeeded');
  assert.ok((counters.reconnects ?? 0) >= 1, `reconnected (${JSON.stringify(counters)})`);
  assert.ok((counters.resyncs ?? 0) >= 1, `resynced after the skipped diff (${JSON.stringify(counters)})`);
  const events = await rt.services.metadata.runs.events({ runId: detail.run.id, limit: 1000 });
  assert.ok(events.some((e) => e.type === 'log' && /order book \w+ resyncs/.test(String(e.payload.message))), 'the resync is logged with the run');
  assertBooksMatch(await latestBooks());
  const [r] = await rt.services.warehouse.query<{ n: number }>('SELECT count() AS n FROM market.agg_trades FINAL');
  assert.equal(Number(r!.n), uniqueTrades, 'replayed trades collapse to the unique ones');
});

test('market-history beside a running market-live: both on sluice.data.klines, each sink writes its own candles, none twice', async () => {
  const replay = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 20 });
  try {
    const live = await rt.coordinator.submit({
      pipeline: 'market-live', params: { symbols: SYMBOLS, market: 'spot', baseUrl: replay.url, wsUrl: replay.wsUrl, idleMs: 60_000 },
    });
    await until('the live connector following the topics', () => reportOf(live.run.id, 'connect') !== undefined);
    // A second run of a stream that never ends would read the same offsets: refused.
    await assert.rejects(rt.coordinator.submit({ pipeline: 'market-live', params: { symbols: SYMBOLS, market: 'spot', baseUrl: replay.url, wsUrl: replay.wsUrl } }),
      new RegExp(`pipeline market-live has stream steps and run ${live.run.id} of it is still running: stop it first`));
    const request = { pipeline: 'market-history', partition: '2026-02-10', params: { symbols: 'DOTUSDT,LINKUSDT', baseUrl: replay.url } };
    const history = await rt.coordinator.submit(request);
    // market-history is limited to one run at a time: a second one waits for the first.
    const second = await rt.coordinator.submit(request);
    assert.equal(second.run.status, 'queued');
    const loaded = await history.done;
    assert.equal(loaded.run.status, 'succeeded', JSON.stringify(loaded.steps.map((s) => [s.step, s.status, s.reason])));
    const again = await second.done;
    assert.equal(again.run.status, 'succeeded');
    assert.ok(Date.parse(again.run.startedAt ?? '') >= Date.parse(loaded.run.finishedAt ?? ''), 'the second started after the first ended');
    assert.equal(again.steps.find((s) => s.step === 'load')?.rowsWritten, 0, 'and found the day loaded');
    // The live connector reads the loader's candles too, and passes them by (`where`).
    await until('the live connector past the loader\'s candles', () => (reportOf(live.run.id, 'connect')?.counters.skipped ?? 0) >= 2 * 1440);
    assert.ok(await rt.coordinator.cancel(live.run.id, 'stopped by the test'));
    assert.equal((await live.done).run.status, 'succeeded');

    const day = "symbol IN ('DOTUSDT', 'LINKUSDT') AND toDate(open_time) = '2026-02-10'";
    const [n] = await rt.services.warehouse.query<{ n: number; u: number }>(`SELECT count() AS n, uniqExact(symbol, open_time) AS u FROM market.klines WHERE ${day}`);
    assert.deepEqual([Number(n!.n), Number(n!.u)], [2 * 1440, 2 * 1440], 'each candle once, without FINAL: one sink wrote it');
    const events = await rt.services.metadata.runs.events({ runId: loaded.run.id, limit: 1000 });
    const written = events.find((e) => e.type === 'asset.materialized');
    assert.equal(written?.payload.rows, 2 * 1440, 'written by market-history\'s own sink');
    assert.equal((written?.payload.metadata as Record<string, unknown>).published, 2 * 1440);
    // Everything on the topic went through the loader's stream: its committed offsets are the partitions' ends.
    const ends = await rt.services.topics.partitions('sluice.data.klines');
    const offsets = (await rt.services.metadata.streams.list('market-history.load')).filter((o) => o.topic === 'sluice.data.klines');
    assert.deepEqual(
      offsets.map((o) => [o.partition, o.offset, o.pendingEnd]).sort(),
      ends.filter((r) => r.end > 0).map((r) => [r.partition, r.end, null]).sort(),
    );
    assert.equal(ends.reduce((sum, r) => sum + r.end, 0), 2 * 1440, 'the candles travelled through sluice.data.klines');
  } finally {
    await replay.close();
  }
});

test('Ctrl-C to `sluice run market-live` stops the streams cleanly: last book snapshots written, exit 0', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const own = tempHome();
  const replay = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 20 });
  try {
    const child = spawn(process.execPath, ['src/cli/main.ts', '--home', own.home, 'run', 'market-live',
      '--param', `symbols=${SYMBOLS}`, '--param', 'market=spot', '--param', `baseUrl=${replay.url}`, '--param', `wsUrl=${replay.wsUrl}`], {
      cwd: root, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Both streams running (a loaded machine opens the stores slowly), then a few seconds of books.
    for (const deadline = Date.now() + 60_000; !(/▶ feed running/.test(err) && /▶ connect running/.test(err));) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the streams did not start:\n${err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 6_000));
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    assert.equal(code, 0, `exit ${code}\n${err.slice(-2000)}`);
    const id = /SIGINT: stopping run ([0-9a-f-]{36})/.exec(err)?.[1];
    assert.ok(id, err.slice(-2000));
    assert.match(err, new RegExp(`run ${id} succeeded`));
    for (const step of ['schema', 'feed', 'connect']) assert.match(err, new RegExp(`✔ ${step} succeeded`));
    assert.match(out, /^market-live: succeeded in /m);
    // What the feed published up to its stop is in the table: the connector flushed before it returned.
    const q = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['src/cli/main.ts', '--home', own.home, 'query',
      "SELECT uniqExact(symbol) AS symbols, count() AS n FROM market.book_snapshots", '--format', 'json'], { cwd: root, env: { PATH: process.env.PATH } },
    (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout))));
    const [books] = JSON.parse(q) as { symbols: number; n: number }[];
    assert.equal(Number(books!.symbols), 4);
    assert.ok(Number(books!.n) >= 4 * 2, `a snapshot a second per book while it ran, and one at the stop (${books!.n})`);
  } finally {
    await replay.close();
    own.cleanup();
  }
});
