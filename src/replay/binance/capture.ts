import { readFileSync } from 'node:fs';

/** One recorded WebSocket message: when it arrived (ms since the epoch), its stream and its payload. */
export interface CapturedMessage {
  readonly at: number;
  readonly stream: string;
  readonly data: Record<string, unknown>;
}

/** A REST depth snapshot recorded with the capture. */
export interface DepthSnapshot {
  readonly at: number;
  readonly symbol: string;
  readonly body: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
}

const MAX_LINE = 1 << 20;

/**
 * A cryptofeed WebSocket capture: the first line is the URL (`<url> <-> <connect time>`), then
 * `<seconds since the epoch>: <combined-stream JSON>` per message. Errors name the line.
 */
export function readCapture(path: string): { url: string; startedAt: number; messages: CapturedMessage[] } {
  const lines = readFileSync(path, 'utf8').split('\n');
  const head = /^(\S+) <-> ([\d.]+)$/.exec(lines[0] ?? '');
  if (!head) throw new Error(`${path}:1: expected "<url> <-> <time>", got ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const messages: CapturedMessage[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 2}`;
    if (line.length > MAX_LINE) throw new Error(`${where}: line longer than ${MAX_LINE} bytes`);
    const m = /^([\d.]+): (.*)$/.exec(line);
    if (!m) throw new Error(`${where}: expected "<time>: <json>"`);
    let msg: { stream?: unknown; data?: unknown };
    try {
      msg = JSON.parse(m[2]!) as typeof msg;
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof msg.stream !== 'string' || !msg.data || typeof msg.data !== 'object') throw new Error(`${where}: not a combined-stream message ({"stream", "data"})`);
    messages.push({ at: Math.round(Number(m[1]) * 1000), stream: msg.stream, data: msg.data as Record<string, unknown> });
  });
  return { url: head[1]!, startedAt: Math.round(Number(head[2]) * 1000), messages };
}

/** The depth snapshots file recorded with a capture: `<url> -> <time>: <json>` per line. */
export function readDepthSnapshots(path: string): DepthSnapshot[] {
  return readFileSync(path, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    const m = /^(\S+) -> ([\d.]+): (.*)$/.exec(line);
    if (!m) throw new Error(`${path}:${i + 1}: expected "<url> -> <time>: <json>"`);
    const symbol = new URL(m[1]!).searchParams.get('symbol');
    if (!symbol) throw new Error(`${path}:${i + 1}: the URL names no symbol`);
    const body = JSON.parse(m[3]!) as DepthSnapshot['body'];
    if (typeof body.lastUpdateId !== 'number') throw new Error(`${path}:${i + 1}: no lastUpdateId`);
    return [{ at: Math.round(Number(m[2]) * 1000), symbol, body }];
  });
}
