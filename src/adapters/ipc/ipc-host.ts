import type { ChildProcess } from 'node:child_process';
import { NotSupportedError, UnavailableError, ValidationError } from '../../core/errors.ts';
import type { DataTopics, TopicReader } from '../../ports/data-topics.ts';
import type { BusMessage, EventBus, Subscription } from '../../ports/event-bus.ts';
import type { Warehouse } from '../../ports/warehouse.ts';
import { ChunkFeed } from './chunk-feed.ts';
import {
  IPC_CHANNEL,
  childMessageSchema,
  fromWireError,
  isBridgeMessage,
  sendOn,
  toWireError,
  type ChildMessage,
  type IpcRequest,
  type ParentBody,
} from './protocol.ts';

export interface IpcHostLogger {
  warn(obj: object, msg?: string): void;
}

export interface IpcHostOptions {
  /** A child started with `child_process.fork` (an IPC channel is required). */
  readonly child: ChildProcess;
  /** The real bus the child's IpcBus reaches; without it bus requests are refused. */
  readonly bus?: EventBus;
  /** The real data topics the child's IpcDataTopics reaches; without them data topic requests are refused. */
  readonly topics?: DataTopics;
  /** The real warehouse the child's IpcWarehouse reaches; without it warehouse requests are refused. */
  readonly warehouse?: Warehouse;
  /** Told about invalid messages; default: a process warning. */
  readonly logger?: IpcHostLogger;
}

interface Delivery {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The parent's end of the bridge for one child process: serves its bus and warehouse
 * requests against the real adapters, subscribes on the real bus on its behalf, and
 * settles each delivery only when the child acks (or fails it on a nack, so the bus
 * redelivers). When the child exits, every subscription it held is closed: a message it
 * had taken but not acked goes back to its group, as when any consumer leaves.
 *
 * @example
 * const child = fork('worker.ts', [], { serialization: 'advanced' });
 * const host = new IpcHost({ child, bus, warehouse });
 */
export class IpcHost {
  readonly #child: ChildProcess;
  readonly #opts: IpcHostOptions;
  readonly #subs = new Map<number, Subscription>();
  readonly #deliveries = new Map<number, Delivery>();
  readonly #feeds = new Map<number, ChunkFeed>();
  readonly #readers = new Map<number, TopicReader>();
  #nextDelivery = 1;
  #closing: Promise<void> | null = null;
  /** The most chunks of one streamed insert that waited here at once (flow control at work). */
  peakBufferedChunks = 0;

  constructor(options: IpcHostOptions) {
    if (!options.child.send) throw new NotSupportedError('IpcHost needs a child started with child_process.fork (no IPC channel)');
    this.#child = options.child;
    this.#opts = options;
    this.#child.on('message', this.#onMessage);
    this.#child.once('disconnect', this.#onGone);
    this.#child.once('exit', this.#onGone);
  }

  /** Subscriptions currently held for the child. */
  get subscriptions(): number {
    return this.#subs.size;
  }

  /** Drops the child's side: pending requests are forgotten, subscriptions closed, inserts failed. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#child.off('message', this.#onMessage);
    this.#child.off('disconnect', this.#onGone);
    this.#child.off('exit', this.#onGone);
    const gone = new UnavailableError(`worker process ${this.#child.pid} is gone`);
    // Close first, then fail what is in flight: the bus then puts those messages back to
    // the group instead of offering them to the dead child again.
    const closing = [...this.#subs.values(), ...this.#readers.values()].map((s) => s.close());
    this.#subs.clear();
    this.#readers.clear();
    for (const d of this.#deliveries.values()) d.reject(gone);
    this.#deliveries.clear();
    for (const f of this.#feeds.values()) f.fail(gone);
    this.#feeds.clear();
    this.#closing = Promise.allSettled(closing).then(() => undefined);
    return this.#closing;
  }

  readonly #onGone = (): void => {
    void this.close();
  };

  readonly #onMessage = (raw: unknown): void => {
    if (!isBridgeMessage(raw) || this.#closing) return;
    const parsed = childMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown }).id;
      this.#warn({ pid: this.#child.pid, err: parsed.error.message }, 'dropped an invalid IPC message from a worker');
      // A malformed request still gets an answer, so the child does not wait forever.
      if (typeof id === 'number' && (raw as { t?: unknown }).t === 'req') {
        this.#send({ t: 'res', id, result: undefined, error: toWireError(new ValidationError(`invalid IPC request: ${parsed.error.message}`)) });
      }
      return;
    }
    this.#handle(parsed.data);
  };

  #handle(m: ChildMessage): void {
    switch (m.t) {
      case 'req':
        void this.#serve(m.id, m.req);
        break;
      case 'ack':
        this.#settle(m.delivery)?.resolve();
        break;
      case 'nack':
        this.#settle(m.delivery)?.reject(fromWireError(m.error));
        break;
      case 'chunk':
        this.#feeds.get(m.stream)?.push(m.data);
        break;
      case 'end':
        this.#feeds.get(m.stream)?.end();
        break;
      case 'abort':
        this.#feeds.get(m.stream)?.fail(fromWireError(m.error));
        break;
    }
  }

  #settle(delivery: number): Delivery | undefined {
    const d = this.#deliveries.get(delivery);
    this.#deliveries.delete(delivery);
    return d;
  }

  async #serve(id: number, req: IpcRequest): Promise<void> {
    let reply: ParentBody;
    try {
      reply = { t: 'res', id, result: await this.#run(id, req) };
    } catch (err) {
      reply = { t: 'res', id, result: undefined, error: toWireError(err) };
    }
    if (!this.#closing) this.#send(reply);
  }

  async #run(id: number, req: IpcRequest): Promise<unknown> {
    switch (req.op) {
      case 'bus.publish':
        return this.#bus().publish(req.topic, req.key, req.value);
      case 'bus.subscribe': {
        const sub = await this.#bus().subscribe(req.topic, { group: req.group, fromBeginning: req.fromBeginning }, (m) => this.#deliver(req.sub, m));
        if (this.#closing) await sub.close();
        else this.#subs.set(req.sub, sub);
        return undefined;
      }
      case 'bus.unsubscribe': {
        const sub = this.#subs.get(req.sub);
        this.#subs.delete(req.sub);
        await sub?.close();
        return undefined;
      }
      case 'dt.produce':
        return this.#topics().produce(req.topic, req.records);
      case 'dt.partitions':
        return this.#topics().partitions(req.topic);
      case 'dt.reader': {
        const reader = await this.#topics().reader(req.topic, { from: req.from, otherwise: req.otherwise, buffer: req.buffer, ...(req.partitions ? { partitions: req.partitions } : {}) });
        if (this.#closing) await reader.close();
        else this.#readers.set(req.reader, reader);
        return undefined;
      }
      case 'dt.next': {
        const reader = this.#readers.get(req.reader);
        if (!reader) throw new ValidationError(`no data topic reader ${req.reader} for this worker`);
        return reader.next(req.max, req.waitMs);
      }
      case 'dt.close': {
        const reader = this.#readers.get(req.reader);
        this.#readers.delete(req.reader);
        await reader?.close();
        return undefined;
      }
      case 'wh.command':
        return this.#warehouse().command(req.sql, req.params);
      case 'wh.query':
        return this.#warehouse().query(req.sql, req.params);
      case 'wh.explain':
        return this.#warehouse().explain(req.sql, req.params);
      case 'wh.insertRows':
        return this.#warehouse().insertRows(req.table, req.rows);
      case 'wh.insertBatch':
        return this.#warehouse().insertBatch(req.table, req.columns, req.body, { dedupToken: req.dedupToken });
      case 'wh.insertTsv': {
        const warehouse = this.#warehouse();
        const feed = new ChunkFeed(() => this.#send({ t: 'credit', stream: id, n: 1 }));
        this.#feeds.set(id, feed);
        try {
          return await warehouse.insertTsv(req.table, req.columns, feed);
        } finally {
          this.#feeds.delete(id);
          if (feed.peak > this.peakBufferedChunks) this.peakBufferedChunks = feed.peak;
        }
      }
    }
  }

  /** The bus handler for a child's subscription: settles when the child has handled it. */
  #deliver(sub: number, m: BusMessage): Promise<void> {
    if (this.#closing) return Promise.reject(new UnavailableError(`worker process ${this.#child.pid} is gone`));
    const delivery = this.#nextDelivery++;
    return new Promise<void>((resolve, reject) => {
      this.#deliveries.set(delivery, { resolve, reject });
      const message = { topic: m.topic, key: m.key, value: m.value, offset: m.offset };
      sendOn(this.#child, { ch: IPC_CHANNEL, v: 1, t: 'deliver', delivery, sub, message }).catch((err: unknown) => this.#settle(delivery)?.reject(err));
    });
  }

  #send(body: ParentBody): void {
    // A child that is gone cannot be answered; `close` (on its exit) cleans up.
    sendOn(this.#child, { ch: IPC_CHANNEL, v: 1, ...body }).catch(() => undefined);
  }

  #bus(): EventBus {
    if (!this.#opts.bus) throw new NotSupportedError('this worker host bridges no bus: give the worker a bus of its own (Kafka) or give IpcHost the bus');
    return this.#opts.bus;
  }

  #topics(): DataTopics {
    if (!this.#opts.topics) throw new NotSupportedError('this worker host bridges no data topics: give the worker its own (Kafka) or give IpcHost the data topics');
    return this.#opts.topics;
  }

  #warehouse(): Warehouse {
    if (!this.#opts.warehouse) {
      throw new NotSupportedError('this worker host bridges no warehouse: give the worker a warehouse of its own (a ClickHouse URL) or give IpcHost the warehouse');
    }
    return this.#opts.warehouse;
  }

  #warn(obj: object, msg: string): void {
    if (this.#opts.logger) this.#opts.logger.warn(obj, msg);
    else process.emitWarning(`${msg}: ${JSON.stringify(obj)}`);
  }
}
