import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describeError } from '../core/errors.ts';
import { startBinanceReplay } from '../replay/binance/binance-replay.ts';
import type { Runtime } from './runtime.ts';

/** The shipped stream pipeline the dev server runs on the recorded exchange data. */
export const LIVE_DEMO_PIPELINE = 'market-live';
const DATA = fileURLToPath(new URL('../../data/binance/', import.meta.url));
/** The symbols of the recorded spot capture (data/binance/ws). */
const SYMBOLS = 'NKNUSDT,BLZETH,LRCBTC,RUNEEUR';
const STOP_WAIT_MS = 15_000;

/**
 * `npm start`'s live stream: `sluice replay binance` on the shipped recordings, in this
 * process on a loopback port, and a market-live run on it. The capture is 31 s long; the
 * feed replaces a connection that is silent for 3 s, and each new connection replays it from
 * the start, so the stream keeps flowing. A market-live run left from an earlier start
 * points at that start's replay port: it is stopped first.
 */
export async function startLiveDemo(rt: Runtime): Promise<{ line: string; close(): Promise<void> }> {
  const none = { close: async () => undefined };
  if (!rt.registry.list().some((p) => p.name === LIVE_DEMO_PIPELINE)) return { line: `none (no ${LIVE_DEMO_PIPELINE} pipeline found)`, ...none };
  for (const r of await rt.services.metadata.runs.list({ pipeline: LIVE_DEMO_PIPELINE, status: 'running', limit: 20 })) {
    if (!rt.coordinator.isActive(r.id)) continue;
    await rt.coordinator.cancel(r.id, 'replaced by the live demo of this start');
    for (const deadline = Date.now() + STOP_WAIT_MS; rt.coordinator.isActive(r.id) && Date.now() < deadline;) await new Promise((res) => setTimeout(res, 100));
  }
  const replay = await startBinanceReplay({
    dataDir: join(DATA, 'klines'), wsCapture: join(DATA, 'ws/BINANCE.ws.1.0'), depthSnapshots: join(DATA, 'ws/BINANCE.http.0.0'), speed: 1,
  });
  try {
    const { run } = await rt.coordinator.submit({
      pipeline: LIVE_DEMO_PIPELINE, params: { symbols: SYMBOLS, market: 'spot', baseUrl: replay.url, wsUrl: replay.wsUrl, idleMs: 3_000 },
    });
    return {
      line: `${LIVE_DEMO_PIPELINE} streams the recorded spot capture from sluice replay binance on ${replay.url} (run ${run.id}; sluice stop ${run.id})`,
      close: () => replay.close(),
    };
  } catch (err) {
    await replay.close();
    return { line: `not started: ${describeError(err)}`, ...none };
  }
}
