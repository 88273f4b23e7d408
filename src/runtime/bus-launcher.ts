import type { ControlCommand } from '../core/commands.ts';
import { NotSupportedError } from '../core/errors.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import type { LaunchRequest, Launcher } from '../ports/launcher.ts';

/**
 * Launches attempts by publishing `start` on the control topic: whichever worker of the
 * shared group takes it runs the attempt and reports on the events topic. The same
 * launcher drives forked workers, `sluice worker` processes and pods.
 */
export class BusLauncher implements Launcher {
  readonly kind = 'bus';
  readonly canKill: boolean;
  readonly #bus: EventBus;
  readonly #kill: ((attemptId: string) => Promise<void>) | undefined;

  /** `kill` is whatever can end the process running an attempt (the worker pool, Kubernetes). */
  constructor(bus: EventBus, options: { kill?: (attemptId: string) => Promise<void> } = {}) {
    this.#bus = bus;
    this.#kill = options.kill;
    this.canKill = options.kill !== undefined;
  }

  launch(request: LaunchRequest): Promise<void> {
    // Keyed by attempt, not run: the parallel steps of one run then spread over the
    // workers (a key stays on one partition / one group member). Starts need no order.
    return this.#send(request.attemptId, { v: 1, type: 'start', request });
  }

  terminate(attemptId: string, reason: string): Promise<void> {
    return this.#send(attemptId, { v: 1, type: 'cancel', attemptId, reason });
  }

  async kill(attemptId: string): Promise<void> {
    if (!this.#kill) {
      throw new NotSupportedError(
        `attempt ${attemptId} runs on a worker this control plane cannot kill; `
          + 'give the launcher the worker pool (sluice dev / sluice server) or a Kubernetes launcher',
      );
    }
    await this.#kill(attemptId);
  }

  #send(key: string, command: ControlCommand): Promise<void> {
    return this.#bus.publish(TOPICS.control, key, command);
  }

  async close(): Promise<void> {}
}
