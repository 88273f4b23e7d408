import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startBinanceReplay, type BinanceReplay } from '../../src/replay/binance/binance-replay.ts';
import { CAPTURE, KLINES, klinesCsv } from '../helpers/binance-data.ts';
import { captureMessages } from '../helpers/capture-reference.ts';

const captureTrades = () => captureMessages().filter((m) => m.data.e === 'aggTrade').map((m) => m.data as Record<string, string | number | boolean>);

const root = fileURLToPath(new URL('../../', import.meta.url));
const SYMBOLS = ['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT'];

interface Result { code: number; stdout: string; stderr: string }
const sluice = (home: string, ...args: string[]) => new Promise<Result>((resolve) => {
  execFile(process.execPath, ['src/cli/main.ts', '--home', home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
    resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
});
const query = async <T>(home: string, sql: string): Promise<T[]> => {
  const r = await sluice(home, 'query', sql, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T[];
};
// Decimal text without trailing zeros, so "0.1040" (the file) equals 0.104 (the table).
const norm = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

// pipelines/market-history against `sluice replay binance` on the shipped February 2026 klines.
describe('market-history: klines through the replay server into market.klines', { timeout: 600_000 }, () => {
  let replay: BinanceReplay;
  const homes: string[] = [];
  const home = () => {
    const h = mkdtempSync(join(tmpdir(), 'sluice-market-'));
    homes.push(h);
    return h;
  };

  before(async () => {
    // The capture's aggregate trades are what /fapi/v1/aggTrades serves.
    replay = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE });
  });
  after(async () => {
    await replay?.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('February 2026 for four symbols: exactly 40,320 candles each, equal to the CSVs, no duplicate with or without FINAL, no 429; a rerun writes nothing', async () => {
    const h = home();
    const started = Date.now();
    const r = await sluice(h, 'run', 'market-history', '--all-partitions', '--param', 'from=2026-02-01', '--param', 'to=2026-03-01', '--param', `baseUrl=${replay.url}`);
    assert.equal(r.code, 0, r.stderr);
    const seconds = (Date.now() - started) / 1000;
    assert.match(r.stdout, /market-history: succeeded in [\d.]+ s, 161,280 rows written/);
    const counts = await query<{ symbol: string; n: number; u: number }>(h, 'SELECT symbol, count() AS n, uniqExact(open_time) AS u FROM market.klines GROUP BY symbol ORDER BY symbol');
    const final = await query<{ symbol: string; n: number }>(h, 'SELECT symbol, count() AS n FROM market.klines FINAL GROUP BY symbol ORDER BY symbol');
    assert.deepEqual(counts.map((c) => [c.symbol, Number(c.n), Number(c.u)]), SYMBOLS.map((s) => [s, 40_320, 40_320]));
    assert.deepEqual(final.map((c) => [c.symbol, Number(c.n)]), SYMBOLS.map((s) => [s, 40_320]), 'FINAL collapses nothing: there was no duplicate');
    assert.equal(replay.stats.limited + replay.stats.banned, 0, 'no 429 at the default budget');
    // Every candle, field by field, in pages of the query endpoint's 10,000-row limit.
    for (const symbol of SYMBOLS) {
      const csv = klinesCsv(symbol).trim().split('\n').slice(1)
        .map((l) => l.split(',').slice(0, 11).map((v, i) => ([0, 6, 8].includes(i) ? v : norm(v))).join(','));
      for (let offset = 0; offset < csv.length; offset += 10_000) {
        const rows = await query<Record<string, string | number>>(h, `SELECT toUnixTimestamp64Milli(open_time) AS t, toString(open) AS o, toString(high) AS h, toString(low) AS l, toString(close) AS c,
          toString(volume) AS v, toUnixTimestamp64Milli(close_time) AS ct, toString(quote_volume) AS qv, trades AS n, toString(taker_buy_volume) AS tb, toString(taker_buy_quote_volume) AS tq
          FROM market.klines WHERE symbol = '${symbol}' ORDER BY open_time LIMIT 10000 OFFSET ${offset}`);
        const got = rows.map((x) => [String(x.t), norm(String(x.o)), norm(String(x.h)), norm(String(x.l)), norm(String(x.c)), norm(String(x.v)), String(x.ct), norm(String(x.qv)), String(x.n), norm(String(x.tb)), norm(String(x.tq))].join(','));
        const want = csv.slice(offset, offset + 10_000);
        assert.equal(got.length, want.length, `${symbol} rows from ${offset}`);
        // The first difference only: a diff of 10,000 lines would take minutes to print.
        const i = got.findIndex((g, k) => g !== want[k]);
        assert.equal(i, -1, `${symbol} row ${offset + i}: table ${got[i]} vs file ${want[i]}`);
      }
    }
    process.stdout.write(`# market-history: 161,280 candles in ${seconds.toFixed(1)} s (${Math.round(161_280 / seconds)} candles/s including process start), ${replay.stats.requests} requests\n`);
    const again = await sluice(h, 'run', 'market-history', '--all-partitions', '--param', 'from=2026-02-01', '--param', 'to=2026-03-01', '--param', `baseUrl=${replay.url}`);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /succeeded in [\d.]+ s, 0 rows written/);
  });

  it('a day per partition by backfill, and a tight weight limit slows the loader down without a 418', async () => {
    const tight = await startBinanceReplay({ dataDir: KLINES, weightLimit: 40, weightWindowS: 1 });
    try {
      const h = home();
      const started = Date.now();
      const r = await sluice(h, 'backfill', 'market-history', '--from', '2026-02-01', '--to', '2026-02-03', '--param', `baseUrl=${tight.url}`, '--param', 'concurrency=8');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /3 succeeded, 0 failed/);
      const seconds = (Date.now() - started) / 1000;
      const [c] = await query<{ n: number; days: number }>(h, 'SELECT count() AS n, uniqExact(toDate(open_time)) AS days FROM market.klines');
      assert.deepEqual([Number(c!.n), Number(c!.days)], [3 * 4 * 1440, 3]);
      assert.equal(tight.stats.banned, 0, 'never a 418');
      // Each 1-day run asks for 4 pages (weight 10 each) against 36 of 40 a second.
      assert.ok(tight.stats.limited <= Math.ceil(seconds), `429s at most once per window: ${tight.stats.limited} in ${seconds.toFixed(1)} s`);
    } finally {
      await tight.close();
    }
  });

  it('kill -9 in the middle of a load and a rerun give the same table', async () => {
    const slow = await startBinanceReplay({ dataDir: KLINES, weightLimit: 25, weightWindowS: 1 });
    try {
      const h = home();
      const args = ['src/cli/main.ts', '--home', h, 'run', 'market-history', '--all-partitions', '--param', 'from=2026-02-01', '--param', 'to=2026-02-15', '--param', `baseUrl=${slow.url}`, '--param', 'concurrency=1'];
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      // 14 days x 4 symbols = 56 pages at 2 a second: killed well inside it.
      for (let i = 0; i < 300 && slow.stats.requests < 12; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.ok(slow.stats.requests >= 12 && slow.stats.requests < 56, `killed mid-load after ${slow.stats.requests} requests:\n${out}`);
      const r = await sluice(h, 'run', 'market-history', '--all-partitions', '--param', 'from=2026-02-01', '--param', 'to=2026-02-15', '--param', `baseUrl=${replay.url}`);
      assert.equal(r.code, 0, r.stderr);
      const counts = await query<{ symbol: string; n: number; u: number }>(h, 'SELECT symbol, count() AS n, uniqExact(open_time) AS u FROM market.klines GROUP BY symbol ORDER BY symbol');
      assert.deepEqual(counts.map((c) => [c.symbol, Number(c.n), Number(c.u)]), SYMBOLS.map((s) => [s, 14 * 1440, 14 * 1440]));
    } finally {
      await slow.close();
    }
  });

  it('a gap in the source is refetched once, then reported with its range in market.kline_gaps and the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-market-gap-'));
    homes.push(dir);
    const lines = klinesCsv('DOTUSDT').split('\n');
    const from = Date.UTC(2026, 1, 10, 6);
    const to = Date.UTC(2026, 1, 10, 7, 30);
    writeFileSync(join(dir, 'DOTUSDT-1m-2026-02.csv'), lines.filter((l) => !(Number(l.split(',')[0]) >= from && Number(l.split(',')[0]) < to)).join('\n'));
    copyFileSync(join(KLINES, 'LINKUSDT-1m-2026-02.csv.gz'), join(dir, 'LINKUSDT-1m-2026-02.csv.gz'));
    const gapped = await startBinanceReplay({ dataDir: dir });
    try {
      const h = home();
      const r = await sluice(h, 'run', 'market-history', '--partition', '2026-02-10', '--param', 'symbols=DOTUSDT,LINKUSDT', '--param', `baseUrl=${gapped.url}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(`${r.stdout}${r.stderr}`, /no 1m candles for DOTUSDT from 2026-02-10T06:00:00\.000Z to 2026-02-10T07:30:00\.000Z \(90\)/);
      const gaps = await query<{ symbol: string; f: string; t: string; candles: number }>(h, 'SELECT symbol, toString(gap_from) AS f, toString(gap_to) AS t, candles FROM market.kline_gaps');
      assert.deepEqual(gaps.map((g) => [g.symbol, g.f, g.t, Number(g.candles)]), [['DOTUSDT', '2026-02-10 06:00:00.000', '2026-02-10 07:30:00.000', 90]]);
      const [c] = await query<{ dot: number; link: number }>(h, "SELECT countIf(symbol = 'DOTUSDT') AS dot, countIf(symbol = 'LINKUSDT') AS link FROM market.klines");
      assert.deepEqual([Number(c!.dot), Number(c!.link)], [1440 - 90, 1440]);
      // The refetch: the gap's pages were asked for twice (first pass and one more).
      assert.ok(gapped.stats.requests >= 4, `${gapped.stats.requests} requests`);
    } finally {
      await gapped.close();
    }
  });

  it('kind=aggTrades: the recorded trades hour by hour through sluice.data.agg-trades into market.agg_trades, each once; a rerun writes nothing', async () => {
    const h = home();
    // 22:00 to 02:00: four hours asked for by time per symbol, the trades in the third.
    const args = ['run', 'market-history', '--all-partitions', '--param', 'kind=aggTrades', '--param', 'symbols=NKNUSDT,LRCBTC',
      '--param', 'from=2021-10-11T22:00:00Z', '--param', 'to=2021-10-12T02:00:00Z', '--param', `baseUrl=${replay.url}`];
    const before = replay.stats.requests;
    const r = await sluice(h, ...args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /market-history: succeeded in [\d.]+ s, 2 rows written/);
    assert.ok(replay.stats.requests - before >= 2 * 4, `an hour a request: ${replay.stats.requests - before}`);
    const rows = await query<Record<string, string | number | boolean>>(h, `SELECT symbol, agg_trade_id AS a, toString(price) AS p, toString(qty) AS q, first_trade_id AS f, last_trade_id AS l,
      toUnixTimestamp64Milli(trade_time) AS t, is_buyer_maker AS m FROM market.agg_trades ORDER BY symbol`);
    const want = captureTrades().map((t) => [t.s, t.a, norm(String(t.p)), norm(String(t.q)), t.f, t.l, t.T, t.m]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(rows.map((x) => [x.symbol, Number(x.a), norm(String(x.p)), norm(String(x.q)), Number(x.f), Number(x.l), Number(x.t), Boolean(x.m)]), want);
    const again = await sluice(h, ...args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /succeeded in [\d.]+ s, 0 rows written/);
    const [n] = await query<{ n: number }>(h, 'SELECT count() AS n FROM market.agg_trades');
    assert.equal(Number(n!.n), 2, 'nothing twice, without FINAL');
  });

  it('refuses what it cannot load: no window, a malformed symbol, a symbol the exchange does not list', async () => {
    const h = home();
    const none = await sluice(h, 'run', 'market-history', '--all-partitions', '--param', `baseUrl=${replay.url}`);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr + none.stdout, /needs a partition \(--partition YYYY-MM-DD\) or params from and to/);
    const long = await sluice(h, 'run', 'market-history', '--all-partitions', '--param', 'from=2025-01-01', '--param', 'to=2026-01-01', '--param', `baseUrl=${replay.url}`);
    assert.notEqual(long.code, 0);
    assert.match(long.stderr + long.stdout, /loads at most 92 days per run/);
    const bad = await sluice(h, 'run', 'market-history', '--partition', '2026-02-10', '--param', 'symbols=dot/usdt', '--param', `baseUrl=${replay.url}`);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /symbols.*a symbol such as BTCUSDT/);
    const unknown = await sluice(h, 'run', 'market-history', '--partition', '2026-02-10', '--param', 'symbols=BTCUSDT', '--param', `baseUrl=${replay.url}`);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr + unknown.stdout, /HTTP 400: \{"code":-1121,"msg":"Invalid symbol\."\}/);
  });
});
