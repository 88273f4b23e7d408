import { parseAttemptEvent, type AttemptEvent } from '../../src/core/events.ts';
import type { EventBus } from '../../src/ports/event-bus.ts';

/** A bus that only records the attempt events published on it, for running one attempt in a unit test. */
export function recordingBus(): { bus: EventBus; published: AttemptEvent[] } {
  const published: AttemptEvent[] = [];
  const bus: EventBus = {
    kind: 'recording',
    publish: async (_topic, _key, value) => void published.push(parseAttemptEvent(value)),
    subscribe: async () => ({ close: async () => undefined }),
    close: async () => undefined,
  };
  return { bus, published };
}
