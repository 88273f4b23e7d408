import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderBook, type DepthEvent } from '../../pipelines/market-live/order-book.ts';
import { StreamClient } from '../../pipelines/market-live/stream-client.ts';
import { startBinanceReplay } from '../../src/replay/binance/binance-replay.ts';
import type { SourcePolicy } from '../../src/sdk/source-policy.ts';
import { CAPTURE, KLINES, SNAPSHOTS } from '../helpers/binance-data.ts';

const replayOf = (o: Partial<Parameters<typeof startBinanceReplay>[0]> = {}) =>
  startBinanceReplay({ dataDir: KLINES, wsCapture: CAPTURE, depthSnapshots: SNAPSHOTS, speed: 100, ...o });

// The run's source policy as `sluice run` grants it, and as a server without URL prefixes does.
const TRUSTED: SourcePolicy = { trust: 'trusted', roots: [], urlPrefixes: [], allowPrivateNetworks: true, connectTimeoutMs: 5_000, idleTimeoutMs: 5_000, maxBytes: 1 << 20 };
const RESTRICTED: SourcePolicy = { ...TRUSTED, trust: 'restricted', allowPrivateNetworks: false };

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !test(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error('timed out');
  }
}

// market-live's WebSocket client against `sluice replay binance`: reconnects, lifetime, silence.
describe('market-live stream client on the replay server', () => {
  it('receives every message of its streams and counts them per stream', async () => {
    const replay = await replayOf();
    const stop = new AbortController();
    try {
      const client = new StreamClient({ policy: TRUSTED, wsUrl: replay.wsUrl, streams: ['nknusdt@depth@100ms', 'nknusdt@aggTrade'], onMessage: () => undefined, signal: stop.signal });
      const running = client.run();
      await until(() => (client.stats.messages['nknusdt@depth@100ms'] ?? 0) === 150 && client.stats.messages['nknusdt@aggTrade'] === 1);
      stop.abort();
      await running;
      assert.deepEqual([client.stats.connections, client.stats.reconnects], [1, 0]);
    } finally {
      await replay.close();
    }
  });

  it('reconnects after a dropped connection and re-subscribes; a skipped diff is a resync of the book', async () => {
    const replay = await replayOf({ faults: { dropAfter: 20, skipDepth: 10 } });
    const stop = new AbortController();
    try {
      const book = new OrderBook('spot');
      const connects: number[] = [];
      let applied = 0;
      const client = new StreamClient({
        policy: TRUSTED, wsUrl: replay.wsUrl, streams: ['nknusdt@depth@100ms'], backoffMs: 50, signal: stop.signal, random: () => 0.5,
        onConnect: (n) => connects.push(n),
        onMessage: (_stream, data) => {
          if (book.onEvent(data as unknown as DepthEvent) === 'applied') applied++;
        },
      });
      // The snapshot before the stream (its lastUpdateId is the first diff's u), so the book is
      // live from the first message whatever the machine's speed.
      const snap = (await (await fetch(`${replay.url}/api/v3/depth?symbol=NKNUSDT&limit=1000`)).json()) as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
      assert.equal(book.onSnapshot(snap), true);
      const running = client.run();
      await until(() => connects.length === 2);
      assert.equal(book.resyncs, 1, 'the diff the server skipped is a resync');
      assert.match(book.lastResync, /event U \d+ after u \d+/);
      await until(() => (client.stats.messages['nknusdt@depth@100ms'] ?? 0) === 20 + 150);
      stop.abort();
      await running;
      assert.equal(client.stats.reconnects, 1);
      // The server cut the socket: a close without a frame, or a reset, depending on timing.
      assert.match(client.stats.lastError, /closed \(1006\)|error: /);
      assert.ok(applied > 0);
    } finally {
      await replay.close();
    }
  });

  it('replaces a connection at its lifetime without backoff, and one that went silent', async () => {
    const replay = await replayOf({ pingIntervalS: 3600 });
    const stop = new AbortController();
    try {
      const reasons: string[] = [];
      const client = new StreamClient({ policy: TRUSTED, wsUrl: replay.wsUrl, streams: ['nosuch@depth@100ms'], maxConnectionMs: 300, idleMs: 10_000, signal: stop.signal, onMessage: () => undefined, onDisconnect: (r) => reasons.push(r) });
      const running = client.run();
      await until(() => reasons.length >= 2);
      assert.deepEqual(reasons.slice(0, 2), ['lifetime', 'lifetime']);
      stop.abort();
      await running;
      const silent = new AbortController();
      const quiet: string[] = [];
      const idle = new StreamClient({ policy: TRUSTED, wsUrl: replay.wsUrl, streams: ['nosuch@depth@100ms'], idleMs: 200, backoffMs: 10, signal: silent.signal, onMessage: () => undefined, onDisconnect: (r) => quiet.push(r) });
      const idling = idle.run();
      await until(() => quiet.length >= 1);
      assert.equal(quiet[0], 'idle');
      silent.abort();
      await idling;
    } finally {
      await replay.close();
    }
  });
  it('connects only where the run\'s source policy allows, and says which rule refused', async () => {
    const replay = await replayOf();
    try {
      const client = new StreamClient({ policy: RESTRICTED, wsUrl: replay.wsUrl, streams: ['nknusdt@aggTrade'], onMessage: () => undefined });
      await assert.rejects(client.run(), (err: Error) => /not under an allowed URL prefix/.test(err.message) && err.message.includes('SLUICE_SOURCE_URL_PREFIXES'));
      const allowed = new StreamClient({ policy: { ...RESTRICTED, urlPrefixes: [replay.wsUrl.replace(/^ws/, 'http')] }, wsUrl: replay.wsUrl, streams: ['nknusdt@aggTrade'], onMessage: () => undefined });
      await assert.rejects(allowed.run(), /private|loopback/i, 'a prefix alone does not open the private network');
      assert.equal(client.stats.connections + allowed.stats.connections, 0);
    } finally {
      await replay.close();
    }
  });
});
