import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CapturedMessage } from './capture.ts';

/** Faults the replay injects, on the first connection only, so a reconnect replays clean. */
export interface ReplayFaults {
  /** Close the connection (abruptly, no close frame) after this many messages. */
  readonly dropAfter?: number;
  /** Leave out the Nth depth event (1-based), so a book built from the stream has a gap. */
  readonly skipDepth?: number;
  /** Hold message N back by `ms` (1-based). */
  readonly delay?: { readonly message: number; readonly ms: number };
}

export interface WsReplayOptions {
  readonly messages: readonly CapturedMessage[];
  /** Times faster than recorded (1: the recorded pace). */
  readonly speed: number;
  readonly pingIntervalMs: number;
  /** The exchange closes a connection after 24 h. */
  readonly maxConnectionMs: number;
  readonly faults: ReplayFaults;
  readonly now: () => number;
}

const MAX_CLIENT_MESSAGE = 64 << 10;
/** A client this far behind is cut off, as the exchange does with slow consumers. */
const MAX_BUFFERED = 8 << 20;
const MAX_STREAMS = 1024;

/**
 * Replays a capture to each WebSocket connection from its start, at the recorded pace times
 * `speed`: `/stream?streams=a/b` (combined: `{"stream", "data"}`) and `/ws/<a>/<b>` (raw
 * payloads), SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS requests, server pings, a connection
 * lifetime and the faults. `replayTime()` is the capture time the latest connection has reached.
 */
export class WsReplay {
  readonly #o: WsReplayOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
  readonly #clients = new Set<WebSocket>();
  #connections = 0;
  #latest: { wallStart: number } | null = null;
  readonly #origin: number;

  constructor(o: WsReplayOptions) {
    this.#o = o;
    this.#origin = o.messages[0]?.at ?? 0;
  }

  /** The capture's time (ms since the epoch) the latest connection's replay is at; null before any. */
  replayTime(): number | null {
    return this.#latest ? this.#origin + (this.#o.now() - this.#latest.wallStart) * this.#o.speed : null;
  }

  /** Wall-clock milliseconds until the latest replay reaches capture time `at` (0 if past or no replay). */
  msUntil(at: number): number {
    const t = this.replayTime();
    return t === null || t >= at ? 0 : (at - t) / this.#o.speed;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://replay');
    let streams: string[];
    let combined: boolean;
    if (url.pathname === '/stream') {
      streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
      combined = true;
    } else if (url.pathname.startsWith('/ws/') || url.pathname === '/ws') {
      streams = url.pathname.slice('/ws/'.length).split('/').filter(Boolean);
      combined = false;
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (streams.length > MAX_STREAMS) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#serve(ws, new Set(streams.map(streamName)), combined));
  }

  #serve(ws: WebSocket, streams: Set<string>, combined: boolean): void {
    const faults = this.#connections++ === 0 ? this.#o.faults : {};
    const wallStart = this.#o.now();
    this.#latest = { wallStart };
    this.#clients.add(ws);
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void, ms: number) => {
      const t = setTimeout(() => { timers.delete(t); fn(); }, Math.max(0, ms));
      timers.add(t);
    };
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, this.#o.pingIntervalMs);
    ws.on('pong', () => { alive = true; });
    later(() => ws.close(1000, 'connection lifetime reached'), this.#o.maxConnectionMs);
    ws.on('close', () => {
      clearInterval(ping);
      for (const t of timers) clearTimeout(t);
      this.#clients.delete(ws);
    });
    ws.on('message', (raw) => this.#request(ws, streams, String(raw)));

    let sent = 0;
    let depthSeen = 0;
    let i = 0;
    const messages = this.#o.messages;
    // One timer at a time, for the next message due: a capture of any size holds no timer per message.
    const next = () => {
      while (i < messages.length && ws.readyState === ws.OPEN) {
        const m = messages[i]!;
        const due = wallStart + (m.at - this.#origin) / this.#o.speed - this.#o.now();
        if (due > 0) return later(next, due);
        i++;
        if (!streams.has(m.stream)) continue;
        if (m.data.e === 'depthUpdate' && ++depthSeen === faults.skipDepth) continue;
        const n = sent + 1;
        const text = JSON.stringify(combined ? { stream: m.stream, data: m.data } : m.data);
        if (faults.delay && n === faults.delay.message) {
          sent++;
          later(() => this.#send(ws, text), faults.delay.ms);
          continue;
        }
        this.#send(ws, text);
        sent++;
        if (faults.dropAfter !== undefined && sent >= faults.dropAfter) return ws.terminate();
      }
    };
    next();
  }

  #send(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) return ws.terminate();
    ws.send(text);
  }

  // The exchange's live subscription requests: {"method": "SUBSCRIBE", "params": [...], "id": 1}.
  #request(ws: WebSocket, streams: Set<string>, raw: string): void {
    let req: { method?: unknown; params?: unknown; id?: unknown };
    try {
      req = JSON.parse(raw) as typeof req;
    } catch {
      return ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
    }
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null;
    const params = Array.isArray(req.params) ? req.params.filter((p): p is string => typeof p === 'string') : [];
    if (req.method === 'SUBSCRIBE' && streams.size + params.length <= MAX_STREAMS) for (const p of params) streams.add(streamName(p));
    else if (req.method === 'UNSUBSCRIBE') for (const p of params) streams.delete(streamName(p));
    else if (req.method === 'LIST_SUBSCRIPTIONS') return ws.send(JSON.stringify({ result: [...streams], id }));
    else return ws.send(JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown method ${JSON.stringify(String(req.method).slice(0, 40))}` }, id }));
    ws.send(JSON.stringify({ result: null, id }));
  }

  async close(): Promise<void> {
    for (const ws of this.#clients) ws.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }
}

// Symbols in stream names are lowercase; the rest is case-sensitive (`btcusdt@aggTrade`).
function streamName(s: string): string {
  const at = s.indexOf('@');
  return at < 0 ? s.toLowerCase() : s.slice(0, at).toLowerCase() + s.slice(at);
}

/** `drop-after=N,skip-depth=N,delay=N:MS`, as the CLI's --faults takes it. */
export function parseFaults(spec: string): ReplayFaults {
  const faults: { dropAfter?: number; skipDepth?: number; delay?: { message: number; ms: number } } = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value = ''] = part.split('=', 2);
    const int = (v: string) => {
      if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new Error(`--faults: ${key} needs a positive whole number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (key === 'drop-after') faults.dropAfter = int(value);
    else if (key === 'skip-depth') faults.skipDepth = int(value);
    else if (key === 'delay') {
      const [n = '', ms = ''] = value.split(':');
      faults.delay = { message: int(n), ms: int(ms) };
    } else throw new Error(`--faults: unknown fault ${JSON.stringify(key)} (drop-after=N, skip-depth=N, delay=N:MS)`);
  }
  return faults;
}
