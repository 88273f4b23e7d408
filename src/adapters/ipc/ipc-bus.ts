import { UnavailableError, ValidationError } from '../../core/errors.ts';
import type { BusMessage, EventBus, SubscribeOptions, Subscription } from '../../ports/event-bus.ts';
import type { IpcClient } from './ipc-client.ts';

/**
 * An EventBus for a forked worker whose control plane owns the real bus (the in-process
 * memory bus lives in one process only). Publishes go to the parent, which publishes on
 * the real bus; each subscription is made by the parent on the real bus, with the same
 * group, on the child's behalf. The parent's handler settles only when the child's
 * handler did, so consumption, ordering and redelivery are the real bus's own.
 *
 * @example
 * const client = new IpcClient(process);
 * const bus = new IpcBus(client);
 * await bus.subscribe(TOPICS.control, { group: 'sluice-workers' }, (m) => handle(m.value));
 */
export class IpcBus implements EventBus {
  readonly kind = 'ipc';
  readonly #client: IpcClient;
  readonly #subs = new Set<Subscription>();
  #closed = false;

  constructor(client: IpcClient) {
    this.#client = client;
  }

  async publish(topic: string, key: string, value: unknown): Promise<void> {
    this.#open('publish to', topic);
    await this.#client.request({ op: 'bus.publish', topic, key, value });
  }

  async subscribe(topic: string, options: SubscribeOptions, handler: (m: BusMessage) => Promise<void> | void): Promise<Subscription> {
    this.#open('subscribe to', topic);
    const client = this.#client;
    const sub = client.nextId();
    // Registered before asking, so a delivery right after the parent subscribed finds it.
    client.setHandler(sub, handler);
    try {
      await client.request({ op: 'bus.subscribe', sub, topic, group: options.group, fromBeginning: options.fromBeginning });
    } catch (err) {
      client.removeHandler(sub);
      throw err;
    }
    let closing: Promise<void> | null = null;
    const subscription: Subscription = {
      close: () => {
        if (!closing) {
          this.#subs.delete(subscription);
          // New deliveries are refused (and redelivered elsewhere); one already running
          // finishes and is acked, and the parent's close waits for that ack.
          client.removeHandler(sub);
          closing = client.connected ? client.request({ op: 'bus.unsubscribe', sub }).then(() => undefined) : Promise.resolve();
          closing = closing.catch((err: unknown) => {
            // With the parent gone there is nothing left to unsubscribe from.
            if (client.connected) throw err;
          });
        }
        // From inside its own handler, waiting for the parent (which waits for this
        // handler's ack) would never end.
        if (!client.insideHandler(sub)) return closing;
        closing.catch(() => undefined);
        return Promise.resolve();
      },
    };
    this.#subs.add(subscription);
    return subscription;
  }

  /** Unsubscribes everything; the parent's bus stays open (it belongs to the parent). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#subs].map((s) => s.close()));
  }

  #open(action: string, topic: string): void {
    if (this.#closed) throw new UnavailableError(`ipc bus is closed; cannot ${action} ${topic}`, { retryable: false });
    if (!topic) throw new ValidationError('topic name must not be empty');
  }
}
