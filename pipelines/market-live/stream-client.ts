import { sleep, socketLookup, type SourcePolicy } from 'sluice';
import { WebSocket } from 'ws';

export interface StreamClientOptions {
  /** The WebSocket base, e.g. wss://fstream.binance.com or the replay server's ws://127.0.0.1:<port>. */
  readonly wsUrl: string;
  readonly streams: readonly string[];
  /** Called for every message, with its stream. */
  readonly onMessage: (stream: string, data: Record<string, unknown>) => void;
  /** A new connection is up (the first, or after a reconnect): a book must resync. */
  readonly onConnect?: (connection: number) => void;
  readonly onDisconnect?: (reason: string) => void;
  /** Reconnect before the exchange's 24 h cut; default 23 h 50 min. */
  readonly maxConnectionMs?: number;
  /** Backoff between reconnects: the first, doubled up to the max, each with ±50% jitter. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A connection silent this long (no message, no ping) is dropped and replaced. */
  readonly idleMs?: number;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  /** What the run may connect to (`ctx.sources`); the address is checked before every connection. */
  readonly policy: SourcePolicy;
}

/** Counters a stream step reports: reconnects and messages per stream. */
export interface StreamClientStats {
  connections: number;
  reconnects: number;
  messages: Record<string, number>;
  lastError: string;
}

const MAX_MESSAGE_BYTES = 1 << 20;

/**
 * A combined-stream subscription that stays up: it reconnects with backoff and jitter after
 * any drop, re-subscribes the same streams, answers pings (the `ws` library does), drops a
 * connection that has gone silent, and replaces a connection before the exchange's 24 h cut
 * (at once, without backoff). Each new connection is announced (`onConnect`) so the caller
 * resyncs its books. `run` resolves when the signal aborts.
 */
export class StreamClient {
  readonly #o: StreamClientOptions;
  readonly stats: StreamClientStats = { connections: 0, reconnects: 0, messages: {}, lastError: '' };

  constructor(o: StreamClientOptions) {
    this.#o = o;
  }

  async run(): Promise<void> {
    const { signal } = this.#o;
    let backoff = this.#o.backoffMs ?? 500;
    while (!signal?.aborted) {
      const started = Date.now();
      const reason = await this.#connectOnce();
      if (signal?.aborted) break;
      this.#o.onDisconnect?.(reason);
      this.stats.lastError = reason;
      this.stats.reconnects++;
      // A connection that lived a while resets the backoff; a flapping one backs off further.
      if (Date.now() - started > 60_000 || reason === 'lifetime') backoff = this.#o.backoffMs ?? 500;
      const jitter = 0.5 + (this.#o.random ?? Math.random)();
      const wait = reason === 'lifetime' ? 0 : Math.min(backoff * jitter, this.#o.maxBackoffMs ?? 30_000);
      backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 30_000);
      // Aborted: the loop's condition ends the run.
      await sleep(wait, signal).catch(() => undefined);
    }
  }

  // One connection, until it drops, goes silent, reaches its lifetime or the signal aborts; resolves with why.
  async #connectOnce(): Promise<string> {
    const url = `${this.#o.wsUrl.replace(/\/$/, '')}/stream?streams=${this.#o.streams.join('/')}`;
    // Refused by the policy: not a drop to retry, the stream fails saying why.
    const lookup = await socketLookup(this.#o.policy, url);
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES, handshakeTimeout: 10_000, lookup });
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const done = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        clearTimeout(lifetime);
        this.#o.signal?.removeEventListener('abort', onAbort);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        resolve(reason);
      };
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => done('idle'), this.#o.idleMs ?? 60_000);
      };
      const lifetime = setTimeout(() => done('lifetime'), this.#o.maxConnectionMs ?? (23 * 60 + 50) * 60_000);
      const onAbort = () => done('stopped');
      this.#o.signal?.addEventListener('abort', onAbort, { once: true });
      ws.on('open', () => {
        this.stats.connections++;
        touch();
        this.#o.onConnect?.(this.stats.connections);
      });
      ws.on('ping', touch);
      ws.on('message', (raw) => {
        touch();
        let msg: { stream?: unknown; data?: unknown };
        try {
          msg = JSON.parse(String(raw)) as typeof msg;
        } catch {
          this.stats.lastError = 'a message that is not JSON';
          return;
        }
        if (typeof msg.stream !== 'string' || !msg.data || typeof msg.data !== 'object') return;
        this.stats.messages[msg.stream] = (this.stats.messages[msg.stream] ?? 0) + 1;
        this.#o.onMessage(msg.stream, msg.data as Record<string, unknown>);
      });
      ws.on('close', (code) => done(`closed (${code})`));
      ws.on('error', (err) => done(`error: ${err.message.slice(0, 200)}`));
    });
  }
}
