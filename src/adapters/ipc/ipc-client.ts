import { AsyncLocalStorage } from 'node:async_hooks';
import { NotSupportedError, type SluiceError, UnavailableError } from '../../core/errors.ts';
import type { BusMessage } from '../../ports/event-bus.ts';
import {
  IPC_CHANNEL,
  disconnected,
  fromWireError,
  isBridgeMessage,
  parentMessageSchema,
  sendOn,
  toWireError,
  type ChildBody,
  type IpcEndpoint,
  type IpcRequest,
  type ParentMessage,
} from './protocol.ts';

type Handler = (m: BusMessage) => Promise<void> | void;

export interface IpcClientOptions {
  /** Called once the channel to the parent is gone (the parent died or disconnected us). */
  readonly onDisconnect?: () => void;
  /** Called with messages on the bridge channel that fail validation; default: a process warning. */
  readonly onInvalid?: (error: unknown) => void;
}

/**
 * The child's end of the bridge: multiplexes requests (with ids) and their responses,
 * runs deliveries for subscriptions and answers them with ack/nack, and hands out
 * credits for streamed inserts. IpcBus and IpcWarehouse share one client.
 */
export class IpcClient {
  readonly #endpoint: IpcEndpoint;
  readonly #opts: IpcClientOptions;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly #handlers = new Map<number, Handler>();
  readonly #credits = new Map<number, (n: number) => void>();
  /** Which subscription's handler the current async context runs in. */
  readonly #inHandler = new AsyncLocalStorage<number>();
  #nextId = 1;
  #gone = false;

  constructor(endpoint: IpcEndpoint, options: IpcClientOptions = {}) {
    if (!endpoint.send) throw new NotSupportedError('this process has no IPC channel: it must be started with child_process.fork');
    this.#endpoint = endpoint;
    this.#opts = options;
    endpoint.on('message', this.#onMessage);
    endpoint.on('disconnect', this.#onDisconnect);
  }

  /** False once the parent is gone or the client was closed. */
  get connected(): boolean {
    return !this.#gone;
  }

  /** A fresh id for a request, a stream or a subscription. */
  nextId(): number {
    return this.#nextId++;
  }

  /** Sends a request; the promise settles with the parent's response. */
  request(req: IpcRequest, id = this.nextId()): Promise<unknown> {
    if (this.#gone) return Promise.reject(disconnected());
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.post({ t: 'req', id, req }).catch((err: unknown) => {
        if (this.#pending.delete(id)) reject(err);
      });
    });
  }

  /** Sends a message that expects no response; resolves once it is on the channel. */
  post(body: ChildBody): Promise<void> {
    if (this.#gone) return Promise.reject(disconnected());
    return sendOn(this.#endpoint, { ch: IPC_CHANNEL, v: 1, ...body });
  }

  /** Routes deliveries for `sub` to `handler` until `removeHandler`. */
  setHandler(sub: number, handler: Handler): void {
    this.#handlers.set(sub, handler);
  }

  removeHandler(sub: number): void {
    this.#handlers.delete(sub);
  }

  /** True when called (directly or indirectly) from the handler of `sub`. */
  insideHandler(sub: number): boolean {
    return this.#inHandler.getStore() === sub;
  }

  /** Calls `fn` with each credit the parent grants for `stream` until `offCredit`. */
  onCredit(stream: number, fn: (n: number) => void): void {
    this.#credits.set(stream, fn);
  }

  offCredit(stream: number): void {
    this.#credits.delete(stream);
  }

  /** Stops listening; what is pending fails. The parent keeps its side until the child exits. */
  close(): void {
    this.#teardown(new UnavailableError('the IPC client was closed'));
  }

  readonly #onMessage = (raw: unknown): void => {
    if (!isBridgeMessage(raw)) return;
    const parsed = parentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      (this.#opts.onInvalid ?? warnInvalid)(parsed.error);
      return;
    }
    this.#handle(parsed.data);
  };

  #handle(m: ParentMessage): void {
    if (m.t === 'res') {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error) p.reject(fromWireError(m.error));
      else p.resolve(m.result);
    } else if (m.t === 'credit') {
      this.#credits.get(m.stream)?.(m.n);
    } else {
      void this.#deliver(m.delivery, m.sub, m.message);
    }
  }

  async #deliver(delivery: number, sub: number, message: BusMessage): Promise<void> {
    const handler = this.#handlers.get(sub);
    let reply: ChildBody;
    if (!handler) {
      // Closed here while the parent was delivering: the bus hands it to someone else.
      const error = toWireError(new UnavailableError(`subscription ${sub} is closed in the worker`));
      reply = { t: 'nack', delivery, error };
    } else {
      try {
        await this.#inHandler.run(sub, () => handler(message));
        reply = { t: 'ack', delivery };
      } catch (err) {
        reply = { t: 'nack', delivery, error: toWireError(err) };
      }
    }
    // A lost reply is harmless: the parent fails the delivery when the channel closes.
    await this.post(reply).catch(() => undefined);
  }

  readonly #onDisconnect = (): void => {
    this.#teardown(disconnected());
    this.#opts.onDisconnect?.();
  };

  #teardown(reason: SluiceError): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#endpoint.off('message', this.#onMessage);
    this.#endpoint.off('disconnect', this.#onDisconnect);
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
    // Credit waiters check `connected` when woken.
    for (const fn of this.#credits.values()) fn(0);
    this.#handlers.clear();
  }
}

function warnInvalid(error: unknown): void {
  process.emitWarning(`sluice IPC: dropped an invalid message from the control plane: ${(error as Error).message}`);
}
