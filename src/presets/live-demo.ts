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
 * process on a loopback port (the dev server's port + 1 when free), and a market-live run
 * on it. The capture is 31 s long; the feed replaces a connection that is silent for 3 s,
 * and each new connection replays it from the start, so the stream keeps flowing. A run left
 * by an earlier start on the same replay address is kept (it resumes from its offsets); one
 * on another address is stopped, and the new run starts once it has (`onLater` says so).
 */
export async function startLiveDemo(rt: Runtime, port: number, onLater: (line: string) => void): Promise<{ line: string; close(): Promise<void> }> {
  const none = { close: async () => undefined };
  if (!rt.registry.list().some((p) => p.name === LIVE_DEMO_PIPELINE)) return { line: `none (no ${LIVE_DEMO_PIPELINE} pipeline found)`, ...none };
  const files = { dataDir: join(DATA, 'klines'), wsCapture: join(DATA, 'ws/BINANCE.ws.1.0'), depthSnapshots: join(DATA, 'ws/BINANCE.http.0.0'), speed: 1 };
  const replay = await startBinanceReplay({ ...files, port }).catch(() => startBinanceReplay(files));
  const describe = (id: string, how: string) => `${LIVE_DEMO_PIPELINE} ${how} the recorded spot capture from sluice replay binance on ${replay.url} (run ${id}; sluice stop ${id})`;
  try {
    const active = (await rt.services.metadata.runs.list({ pipeline: LIVE_DEMO_PIPELINE, limit: 20 })).filter((r) => rt.coordinator.isActive(r.id));
    const same = active.find((r) => r.params.baseUrl === replay.url);
    if (same) return { line: describe(same.id, 'resumes streaming'), close: () => replay.close() };
    const submit = async () => (await rt.coordinator.submit({
      pipeline: LIVE_DEMO_PIPELINE, params: { symbols: SYMBOLS, market: 'spot', baseUrl: replay.url, wsUrl: replay.wsUrl, idleMs: 3_000 },
    })).run.id;
    if (active.length === 0) return { line: describe(await submit(), 'streams'), close: () => replay.close() };
    // Stopping the old run may take its grace period: the banner does not wait for it.
    for (const r of active) await rt.coordinator.cancel(r.id, 'replaced by the live demo of this start');
    void (async () => {
      for (const deadline = Date.now() + STOP_WAIT_MS; active.some((r) => rt.coordinator.isActive(r.id)) && Date.now() < deadline;) await new Promise((res) => setTimeout(res, 100));
      onLater(`live stream: ${describe(await submit(), 'streams')}`);
    })().catch((err: unknown) => onLater(`live stream: not started: ${describeError(err)}`));
    return { line: `starting once run ${active.map((r) => r.id).join(', ')} of an earlier start has stopped`, close: () => replay.close() };
  } catch (err) {
    await replay.close();
    return { line: `not started: ${describeError(err)}`, ...none };
  }
}
