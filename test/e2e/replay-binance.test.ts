import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket as WsClient } from 'ws';
import { startBinanceReplay, type BinanceReplay } from '../../src/replay/binance/binance-replay.ts';
import { CAPTURE, KLINES, SNAPSHOTS, klinesCsv } from '../helpers/binance-data.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FEB_2026 = Date.UTC(2026, 1, 1);
const MARCH_2026 = Date.UTC(2026, 2, 1);

type Row = [number, string, string, string, string, string, number, string, number, string, string, string];
const csvRows = (symbol: string): string[][] => klinesCsv(symbol).trim().split('\n').slice(1).map((l) => l.split(','));

async function get(base: string, path: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

/** The messages a WebSocket client receives until it has `count` or `ms` pass. */
function receive(url: string, count: number, ms = 15_000, onOpen?: (ws: WebSocket) => void): Promise<{ messages: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: unknown[] = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      ws.close();
      resolve({ messages, closed });
    };
    const timer = setTimeout(done, ms);
    ws.onopen = () => onOpen?.(ws);
    ws.onmessage = (e) => {
      messages.push(JSON.parse(String(e.data)));
      if (messages.length >= count) done();
    };
    ws.onclose = () => {
      closed = true;
      done();
    };
    ws.onerror = () => (messages.length === 0 && !closed ? reject(new Error(`WebSocket ${url} failed`)) : undefined);
  });
}

// `sluice replay binance` on the committed recordings: real klines of February 2026 and a real
// spot WebSocket capture with its depth snapshots (data/binance).
describe('the Binance replay server', () => {
  let replay: BinanceReplay;

  before(async () => {
    replay = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 50 });
  });
  after(async () => {
    await replay?.close();
  });

  it('serves every February 2026 1m kline of the four symbols by pages of 1500, equal to the CSV files', async () => {
    for (const symbol of ['ALGOUSDT', 'AVAXUSDT', 'DOTUSDT', 'LINKUSDT']) {
      const rows: Row[] = [];
      for (let start = FEB_2026; start < MARCH_2026;) {
        const { status, body } = await get(replay.url, `/fapi/v1/klines?symbol=${symbol}&interval=1m&limit=1500&startTime=${start}&endTime=${MARCH_2026 - 1}`);
        assert.equal(status, 200);
        const page = body as Row[];
        if (page.length === 0) break;
        rows.push(...page);
        start = page.at(-1)![0] + 60_000;
      }
      assert.equal(rows.length, 40_320, symbol);
      const csv = csvRows(symbol);
      assert.deepEqual(rows.map((r) => [String(r[0]), r[1], r[2], r[3], r[4], r[5], String(r[6]), r[7], String(r[8]), r[9], r[10]]), csv.map((c) => c.slice(0, 11)));
    }
  });

  it('aggregates coarser intervals from 1m exactly, and keeps the exchange\'s startTime / endTime / limit semantics', async () => {
    const csv = csvRows('DOTUSDT');
    const { body } = await get(replay.url, `/fapi/v1/klines?symbol=DOTUSDT&interval=5m&startTime=${FEB_2026}&limit=2`);
    const [first] = body as Row[];
    const five = csv.slice(0, 5);
    // Hundred-millionths as BigInt: exact for the exchange's at most 8 decimals.
    const units = (v: string) => { const [i, f = ''] = v.split('.'); return BigInt(i! + f.padEnd(8, '0')); };
    assert.equal(first![0], FEB_2026);
    assert.equal(first![6], FEB_2026 + 300_000 - 1);
    assert.equal(first![1], five[0]![1]);
    assert.equal(first![4], five[4]![4]);
    assert.equal(first![2], five.map((c) => c[2]!).reduce((a, b) => (Number(a) >= Number(b) ? a : b)));
    assert.equal(first![8], five.reduce((n, c) => n + Number(c[8]), 0));
    // Volumes summed exactly: no float residue in any of them.
    for (const k of [5, 7, 9, 10] as const) assert.equal(units(first![k]), five.reduce((n, c) => n + units(c[k]!), 0n), `column ${k}`);
    const day = await get(replay.url, `/fapi/v1/klines?symbol=LINKUSDT&interval=1d&startTime=${FEB_2026}&endTime=${MARCH_2026 - 1}`);
    assert.equal((day.body as Row[]).length, 28);
    const h = await get(replay.url, `/fapi/v1/klines?symbol=LINKUSDT&interval=1h&endTime=${MARCH_2026 - 1}&limit=3`);
    assert.deepEqual((h.body as Row[]).map((r) => r[0]), [MARCH_2026 - 3 * 3_600_000, MARCH_2026 - 2 * 3_600_000, MARCH_2026 - 3_600_000], 'only an end: the last `limit` before it');
    const latest = await get(replay.url, '/api/v3/klines?symbol=ALGOUSDT&interval=1m');
    assert.equal((latest.body as Row[]).length, 500, 'the default limit');
    assert.equal((latest.body as Row[]).at(-1)![0], MARCH_2026 - 60_000);
    assert.deepEqual((await get(replay.url, '/fapi/v1/klines?symbol=ALGOUSDT&interval=1m&limit=1501')).body, { code: -1130, msg: 'Data sent for parameter \'limit\' is not valid (1 to 1500).' });
    assert.equal((await get(replay.url, '/api/v3/klines?symbol=ALGOUSDT&interval=1m&limit=1001')).status, 400, 'spot allows 1000');
    assert.deepEqual((await get(replay.url, '/fapi/v1/klines?symbol=NOPEUSDT&interval=1m')).body, { code: -1121, msg: 'Invalid symbol.' });
    assert.deepEqual((await get(replay.url, '/fapi/v1/klines?symbol=DOTUSDT&interval=7m')).body, { code: -1120, msg: 'Invalid interval.' });
    assert.equal(((await get(replay.url, '/fapi/v1/klines?symbol=DOTUSDT&interval=1m&startTime=abc')).body as { code: number }).code, -1100);
    const info = (await get(replay.url, '/fapi/v1/exchangeInfo')).body as { symbols: { symbol: string; baseAsset: string; quoteAsset: string }[]; rateLimits: { limit: number }[] };
    assert.deepEqual(info.symbols.map((s) => `${s.baseAsset}/${s.quoteAsset}`), ['ALGO/USDT', 'AVAX/USDT', 'DOT/USDT', 'LINK/USDT']);
    assert.equal(info.rateLimits[0]!.limit, 2400);
    assert.ok(Math.abs(((await get(replay.url, '/fapi/v1/time')).body as { serverTime: number }).serverTime - Date.now()) < 5_000);
  });

  it('counts request weights as the exchange does: X-MBX-USED-WEIGHT, 429 with Retry-After past the limit, 418 for a client that keeps going', async () => {
    const tight = await startBinanceReplay({ dataDir: KLINES, weightLimit: 12, weightWindowS: 30 });
    try {
      const path = `/fapi/v1/klines?symbol=DOTUSDT&interval=1m&limit=500&startTime=${FEB_2026}`;
      const a = await get(tight.url, path);
      const b = await get(tight.url, path);
      assert.deepEqual([a.status, a.headers.get('x-mbx-used-weight-30s'), b.status, b.headers.get('x-mbx-used-weight-30s')], [200, '5', 200, '10']);
      const c = await get(tight.url, path);
      assert.equal(c.status, 429);
      assert.ok(Number(c.headers.get('retry-after')) >= 1 && Number(c.headers.get('retry-after')) <= 30);
      assert.equal((c.body as { code: number }).code, -1003);
      // A light request still fits (weight 1 of what is left)...
      assert.equal((await get(tight.url, '/fapi/v1/time')).status, 418, 'but not before Retry-After: sending again is a ban');
      const banned = await get(tight.url, '/fapi/v1/time');
      assert.equal(banned.status, 418);
      assert.ok(Number(banned.headers.get('retry-after')) >= 60);
      assert.deepEqual(tight.stats, { requests: 5, limited: 1, banned: 2 });
    } finally {
      await tight.close();
    }
  });

  it('replays the capture per connection at its pace (combined and raw streams), answers SUBSCRIBE, and holds a depth snapshot until its moment', async () => {
    const depth = await receive(`${replay.wsUrl}/stream?streams=nknusdt@depth@100ms/nknusdt@aggTrade`, 151);
    assert.equal(depth.messages.length, 151);
    const events = depth.messages as { stream: string; data: { e: string; U?: number; u?: number } }[];
    assert.deepEqual([...new Set(events.map((m) => m.stream))].sort(), ['nknusdt@aggTrade', 'nknusdt@depth@100ms']);
    const diffs = events.filter((m) => m.data.e === 'depthUpdate').map((m) => m.data);
    assert.ok(diffs.every((d, i) => i === 0 || d.U === diffs[i - 1]!.u! + 1), 'spot diffs follow each other (U = previous u + 1)');
    const raw = await receive(`${replay.wsUrl}/ws/nknusdt@bookTicker`, 74);
    assert.equal(raw.messages.length, 74);
    assert.ok((raw.messages as { s: string }[]).every((m) => m.s === 'NKNUSDT'), 'raw payloads, no wrapper');

    const sub = await receive(`${replay.wsUrl}/stream?streams=blzeth@depth@100ms`, 12, 15_000, (ws) => ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['blzeth@bookTicker'], id: 7 })));
    assert.deepEqual(sub.messages.find((m) => (m as { id?: number }).id === 7), { result: null, id: 7 });

    // At the recorded pace: a fresh connection starts the replay over, and the NKNUSDT
    // snapshot, taken 0.257 s after the capture's first message, is answered at that moment.
    const paced = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 1 });
    try {
      const ws = new WebSocket(`${paced.wsUrl}/stream?streams=nknusdt@depth@100ms`);
      await new Promise((r) => { ws.onopen = r; });
      const started = Date.now();
      const snap = (await get(paced.url, '/api/v3/depth?symbol=NKNUSDT&limit=5')).body as { lastUpdateId: number; bids: unknown[] };
      const waited = Date.now() - started;
      ws.close();
      assert.equal(snap.lastUpdateId, 499_869_752);
      assert.equal(snap.bids.length, 5);
      assert.ok(waited >= 200 && waited < 2_000, `answered after ${waited} ms`);
    } finally {
      await paced.close();
    }
  });

  it('injects faults on the first connection only: a dropped connection, a skipped depth event', async () => {
    const faulty = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, speed: 100, faults: { dropAfter: 10 } });
    try {
      const first = await receive(`${faulty.wsUrl}/stream?streams=nknusdt@depth@100ms`, 150);
      assert.equal(first.messages.length, 10);
      assert.equal(first.closed, true);
      const second = await receive(`${faulty.wsUrl}/stream?streams=nknusdt@depth@100ms`, 150);
      assert.equal(second.messages.length, 150, 'the reconnect replays everything');
    } finally {
      await faulty.close();
    }
    const skipping = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, speed: 100, faults: { skipDepth: 20 } });
    try {
      const got = await receive(`${skipping.wsUrl}/stream?streams=nknusdt@depth@100ms`, 150, 5_000);
      const diffs = (got.messages as { data: { U: number; u: number } }[]).map((m) => m.data);
      assert.equal(diffs.length, 149);
      const gaps = diffs.filter((d, i) => i > 0 && d.U !== diffs[i - 1]!.u + 1);
      assert.equal(gaps.length, 1, 'exactly one gap a book must resync on');
    } finally {
      await skipping.close();
    }
  });

  it('pings its clients, cuts one that stops answering, and closes every connection at its lifetime', async () => {
    const short = await startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, pingIntervalS: 0.2, maxConnectionS: 1 });
    try {
      const ended = (autoPong: boolean) => new Promise<{ pings: number; code: number; reason: string; ms: number }>((resolve) => {
        const started = Date.now();
        const c = new WsClient(`${short.wsUrl}/ws/nknusdt@bookTicker`, { autoPong });
        let pings = 0;
        c.on('ping', () => pings++);
        c.on('close', (code, reason) => resolve({ pings, code, reason: String(reason), ms: Date.now() - started }));
      });
      const polite = await ended(true);
      assert.equal(polite.code, 1000);
      assert.equal(polite.reason, 'connection lifetime reached');
      assert.ok(polite.pings >= 3 && polite.ms >= 900, JSON.stringify(polite));
      const silent = await ended(false);
      assert.equal(silent.code, 1006, 'terminated, no close frame');
      assert.ok(silent.ms < 900 && silent.pings >= 1, JSON.stringify(silent));
    } finally {
      await short.close();
    }
  });

  it('a gap in the files is a gap in the API, as the exchange\'s maintenance windows are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
    try {
      const lines = klinesCsv('DOTUSDT').split('\n');
      // 2026-02-10 00:00 to 00:59 missing (60 minutes), and no header line.
      const cut = lines.filter((l, i) => i > 0 && !(Number(l.split(',')[0]) >= Date.UTC(2026, 1, 10) && Number(l.split(',')[0]) < Date.UTC(2026, 1, 10, 1)));
      writeFileSync(join(dir, 'DOTUSDT-1m-2026-02.csv'), cut.join('\n'));
      copyFileSync(join(KLINES, 'LINKUSDT-1m-2026-02.csv.gz'), join(dir, 'LINKUSDT-1m-2026-02.csv.gz'));
      const gapped = await startBinanceReplay({ dataDir: dir });
      try {
        const { body } = await get(gapped.url, `/fapi/v1/klines?symbol=DOTUSDT&interval=1m&startTime=${Date.UTC(2026, 1, 9, 23, 58)}&limit=4`);
        assert.deepEqual((body as Row[]).map((r) => r[0]), [Date.UTC(2026, 1, 9, 23, 58), Date.UTC(2026, 1, 9, 23, 59), Date.UTC(2026, 1, 10, 1), Date.UTC(2026, 1, 10, 1, 1)]);
        const hours = (await get(gapped.url, `/fapi/v1/klines?symbol=DOTUSDT&interval=1h&startTime=${Date.UTC(2026, 1, 9, 23)}&limit=3`)).body as Row[];
        assert.deepEqual(hours.map((r) => r[0]), [Date.UTC(2026, 1, 9, 23), Date.UTC(2026, 1, 10, 1), Date.UTC(2026, 1, 10, 2)]);
      } finally {
        await gapped.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the capture\'s aggregate trades by id and by time, as the exchange does (less than an hour between start and end)', async () => {
    const trade = { a: 15683430, p: '0.35280000', q: '58.00000000', f: 19862790, l: 19862790, T: 1633998523963, m: false };
    assert.deepEqual((await get(replay.url, '/fapi/v1/aggTrades?symbol=NKNUSDT')).body, [trade], 'the most recent');
    assert.deepEqual((await get(replay.url, `/fapi/v1/aggTrades?symbol=NKNUSDT&startTime=${trade.T}&endTime=${trade.T + 3_599_999}`)).body, [trade]);
    assert.deepEqual((await get(replay.url, `/fapi/v1/aggTrades?symbol=NKNUSDT&startTime=${trade.T + 1}&endTime=${trade.T + 1000}`)).body, []);
    assert.deepEqual((await get(replay.url, `/fapi/v1/aggTrades?symbol=NKNUSDT&fromId=${trade.a}`)).body, [trade]);
    assert.deepEqual((await get(replay.url, `/fapi/v1/aggTrades?symbol=NKNUSDT&fromId=${trade.a + 1}`)).body, []);
    assert.deepEqual((await get(replay.url, '/api/v3/aggTrades?symbol=LRCBTC')).body, [{ a: 9213679, p: '0.00000638', q: '177.00000000', f: 12368013, l: 12368013, T: 1633998534486, m: false, M: true }]);
    const wide = await get(replay.url, `/fapi/v1/aggTrades?symbol=NKNUSDT&startTime=${trade.T}&endTime=${trade.T + 3_600_000}`);
    assert.deepEqual([wide.status, wide.body], [400, { code: -1127, msg: 'More than 1 hours between startTime and endTime.' }]);
  });

  it('sluice replay binance runs until SIGTERM, and names a bad flag', async () => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'replay', 'binance', '--data', KLINES, '--port', '0', '--speed', '10'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    for (let i = 0; i < 200 && !/Ctrl-C stops/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const url = /replaying Binance on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, /streams from .*BINANCE\.ws\.1\.0/, 'the capture beside the klines is found');
    assert.equal((await get(url, '/fapi/v1/klines?symbol=DOTUSDT&interval=1m&limit=1')).status, 200);
    const code = await new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); });
    assert.equal(code, 0);
    const bad = spawn(process.execPath, ['src/cli/main.ts', 'replay', 'binance', '--data', KLINES, '--faults', 'explode=1'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (d) => { err += d; });
    assert.notEqual(await new Promise((r) => bad.once('exit', r)), 0);
    assert.match(err, /--faults: unknown fault "explode"/);
  });
});
