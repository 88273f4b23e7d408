import type { AttemptEvent, AttemptEventBody } from '../core/events.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import type { LaunchRequest } from '../ports/launcher.ts';

/**
 * Stamps and publishes one attempt's events in order: each gets the attempt id and the
 * next sequence number, so the control plane can apply them idempotently.
 */
export class AttemptEmitter {
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly #bus: EventBus;
  readonly #req: LaunchRequest;

  constructor(bus: EventBus, req: LaunchRequest) {
    this.#bus = bus;
    this.#req = req;
  }

  /** Queues the event; publishes stay in emission order. */
  emit(body: AttemptEventBody): Promise<void> {
    const event = {
      v: 1,
      runId: this.#req.runId,
      attemptId: this.#req.attemptId,
      step: this.#req.step,
      seq: this.#seq++,
      ts: new Date().toISOString(),
      ...body,
    } as AttemptEvent;
    this.#chain = this.#chain.then(() => this.#bus.publish(TOPICS.events, this.#req.runId, event));
    return this.#chain;
  }

  /** Resolves once everything emitted so far is on the bus. */
  flush(): Promise<void> {
    return this.#chain;
  }
}
