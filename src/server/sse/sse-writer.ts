import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface SseBounds {
  /** Bytes that may wait in this process for one client; beyond, the stream overflows. */
  readonly maxBufferedBytes: number;
  /** How long a write may wait for the client to drain, and a closing stream to finish. */
  readonly stallMs: number;
}

export type OverflowReason = 'buffer' | 'stalled';

/**
 * One client's event stream with backpressure: after a write the socket cannot take, the
 * next waits for `drain`. A client that lets more than `maxBufferedBytes` pile up, or does
 * not drain within `stallMs`, gets a last `overflow` event naming the last event id it was
 * sent (what `Last-Event-ID` resumes from), and its connection is closed; one that does not
 * even take that is destroyed, which frees whatever was still buffered for it.
 */
export class SseWriter {
  readonly #res: ServerResponse;
  readonly #bounds: SseBounds;
  readonly #onOverflow: (reason: OverflowReason) => void;
  #open = true;
  #lastId = 0;
  #killTimer: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;

  constructor(res: ServerResponse, bounds: SseBounds, onOverflow: (reason: OverflowReason) => void = () => undefined) {
    this.#res = res;
    this.#bounds = bounds;
    this.#onOverflow = onOverflow;
    this.closed = new Promise((resolve) => {
      res.once('close', () => {
        this.#open = false;
        clearTimeout(this.#killTimer);
        resolve();
      });
    });
  }

  /** False once the client is gone or the stream was ended. */
  get open(): boolean {
    return this.#open;
  }

  /** The id of the last event handed to the socket. */
  get lastId(): number {
    return this.#lastId;
  }

  /**
   * Writes SSE text (or its bytes) whose last event has id `lastId` (none for comments). Resolves false
   * when the stream is over: the client left or was too slow and has been closed.
   */
  async write(text: string | Buffer, lastId?: number): Promise<boolean> {
    if (!this.#open) return false;
    const ok = this.#res.write(text);
    if (lastId !== undefined) this.#lastId = lastId;
    if (this.#res.writableLength > this.#bounds.maxBufferedBytes) {
      this.#overflow('buffer');
      return false;
    }
    if (ok) {
      // A write the socket took resolves at once; without a turn of the event loop, one
      // stream replaying its history would fill every kernel buffer before /healthz is read.
      await nextTurn();
      return this.#open;
    }
    if (await this.#drained()) return true;
    if (this.#open) this.#overflow('stalled');
    return false;
  }

  /** Ends the stream; a client that does not take the rest within `stallMs` is cut off. */
  end(text = ''): void {
    if (!this.#open) return;
    this.#open = false;
    this.#res.end(text);
    this.#killTimer = setTimeout(() => this.#res.destroy(), this.#bounds.stallMs);
    this.#killTimer.unref();
  }

  #overflow(reason: OverflowReason): void {
    this.#onOverflow(reason);
    const id = this.#lastId;
    const data = JSON.stringify({ lastEventId: id, reason: reason === 'buffer' ? 'too much data waiting for this client' : 'client did not read in time' });
    this.end(`event: overflow\n${id > 0 ? `id: ${id}\n` : ''}data: ${data}\n\n`);
  }

  #drained(): Promise<boolean> {
    const res = this.#res;
    return new Promise((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        resolve(drained);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), this.#bounds.stallMs);
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
}
