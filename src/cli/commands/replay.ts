import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { startBinanceReplay } from '../../replay/binance/binance-replay.ts';
import { parseFaults } from '../../replay/binance/ws-replay.ts';
import { print } from '../context.ts';

const number = (flag: string, v: string | undefined, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ValidationError(`${flag}: ${JSON.stringify(v)} is not a number from ${min} to ${max}`, flag);
  return n;
};

export function registerReplay(program: Command): void {
  const replay = program.command('replay').description('serve an exchange offline from real recordings, to develop and test market pipelines');
  replay
    .command('binance')
    .description('Binance\'s futures and spot REST API (klines, depth, exchangeInfo, time, aggTrades) with its request weights, and WebSocket streams replayed from a capture, on 127.0.0.1')
    .requiredOption('--data <dir>', 'a folder of <SYMBOL>-1m-<YYYY-MM>.csv (or .csv.gz) klines (data.binance.vision layout)')
    .option('--port <n>', 'port to listen on (0: any free one)', '0')
    .option('--ws-capture <file>', 'a cryptofeed WebSocket capture to replay (default: <data>/../ws/BINANCE.ws.1.0 when present)')
    .option('--depth-snapshots <file>', 'the REST depth snapshots taken with the capture (default: beside the capture)')
    .option('--weight-limit <w>', 'request weight per window and client (default: the exchange\'s, 2400 futures, 6000 spot)')
    .option('--weight-window-s <s>', 'the weight window in seconds', '60')
    .option('--speed <x>', 'replay the capture this many times faster than recorded', '1')
    .option('--ping-interval-s <s>', 'seconds between server pings', '180')
    .option('--max-connection-s <s>', 'seconds after which a WebSocket connection is closed (the exchange: 24 h)', '86400')
    .option('--faults <spec>', 'on the first WebSocket connection: drop-after=N, skip-depth=N, delay=N:MS (comma-separated)')
    .action(async (o: Record<string, string | undefined>) => {
      if (!existsSync(o.data!)) throw new ValidationError(`--data: ${o.data} does not exist`, 'data');
      const beside = join(o.data!, '..', 'ws');
      const wsCapture = o.wsCapture ?? (existsSync(join(beside, 'BINANCE.ws.1.0')) ? join(beside, 'BINANCE.ws.1.0') : undefined);
      const depthSnapshots = o.depthSnapshots ?? (wsCapture && existsSync(join(beside, 'BINANCE.http.0.0')) ? join(beside, 'BINANCE.http.0.0') : undefined);
      let faults;
      try {
        faults = o.faults ? parseFaults(o.faults) : {};
      } catch (err) {
        throw new ValidationError((err as Error).message, 'faults');
      }
      const server = await startBinanceReplay({
        dataDir: o.data!, port: number('--port', o.port, 0, 65_535), wsCapture, depthSnapshots,
        weightLimit: number('--weight-limit', o.weightLimit, 1, 1e9), weightWindowS: number('--weight-window-s', o.weightWindowS, 1, 86_400),
        speed: number('--speed', o.speed, 0.001, 1e6), pingIntervalS: number('--ping-interval-s', o.pingIntervalS, 0.1, 86_400),
        maxConnectionS: number('--max-connection-s', o.maxConnectionS, 1, 7 * 86_400), faults,
      });
      print(`replaying Binance on ${server.url} (REST: /fapi/v1, /api/v3) and ${server.wsUrl} (WebSocket: /stream?streams=…, /ws/<stream>)`);
      print(`klines from ${o.data}${wsCapture ? `; streams from ${wsCapture}` : ''}; Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve());
      });
      await server.close();
    });
}
