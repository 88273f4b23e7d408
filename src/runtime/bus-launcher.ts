import type { ControlCommand } from '../core/commands.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import type { LaunchRequest, Launcher } from '../ports/launcher.ts';

/**
 * Launches attempts by publishing `start` on the control topic: whichever worker of the
 * shared group takes it runs the attempt and reports on the events topic. The same
 * launcher drives forked workers, `sluice worker` processes and pods.
 */
export class BusLauncher implements Launcher {
  readonly kind = 'bus';
  readonly #bus: EventBus;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  launch(request: LaunchRequest): Promise<void> {
    // Keyed by attempt, not run: the parallel steps of one run then spread over the
    // workers (a key stays on one partition / one group member). Starts need no order.
    return this.#send(request.attemptId, { v: 1, type: 'start', request });
  }

  terminate(attemptId: string, reason: string): Promise<void> {
    return this.#send(attemptId, { v: 1, type: 'cancel', attemptId, reason });
  }

  #send(key: string, command: ControlCommand): Promise<void> {
    return this.#bus.publish(TOPICS.control, key, command);
  }

  async close(): Promise<void> {}
}
