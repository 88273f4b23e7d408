import { randomUUID } from 'node:crypto';
import { parseControlCommand, type ControlCommand, type Pong } from '../core/commands.ts';
import { describeError } from '../core/errors.ts';
import { TOPICS, type EventBus, type Subscription } from '../ports/event-bus.ts';
import type { LaunchRequest } from '../ports/launcher.ts';
import { executeAttempt, type AttemptEnd, type ExecutorDeps } from './attempt-executor.ts';
import type { Logger } from './services.ts';

export interface WorkerOptions {
  readonly id?: string;
  /** Attempts this worker runs at once. */
  readonly slots: number;
  readonly deps: ExecutorDeps;
  readonly logger: Logger;
  /** After a cancel, how long an attempt may take to stop before the process gives up on it. */
  readonly graceMs?: number;
}

/**
 * Takes `start` commands from the shared worker group, runs the attempts, answers `ping`,
 * and honours `cancel`/`stop` through each attempt's AbortSignal. Everything it learns goes
 * back on the events topic; it keeps no state worth saving.
 */
export class Worker {
  readonly id: string;
  readonly #opts: WorkerOptions;
  readonly #bus: EventBus;
  readonly #running = new Map<string, { request: LaunchRequest; controller: AbortController; done: Promise<unknown> }>();
  readonly #subs: Subscription[] = [];
  #free: (() => void) | null = null;

  constructor(opts: WorkerOptions) {
    this.id = opts.id ?? `w-${randomUUID().slice(0, 8)}`;
    this.#opts = opts;
    this.#bus = opts.deps.bus;
  }

  /**
   * Subscribes to the commands every worker sees (cancel, stop, ping) and, unless `shared`
   * is false (a pod's one-shot worker, which runs only the attempt it was given), to the
   * shared group's starts.
   */
  async start(options: { shared?: boolean } = {}): Promise<void> {
    this.#subs.push(await this.#bus.subscribe(TOPICS.control, { group: `sluice-worker-${this.id}` }, (m) => this.#onBroadcast(m.value)));
    if (options.shared !== false) {
      this.#subs.push(await this.#bus.subscribe(TOPICS.control, { group: 'sluice-workers', fromBeginning: true }, (m) => this.#onShared(m.value)));
    }
    this.#opts.logger.info({ worker: this.id, slots: this.#opts.slots }, 'worker ready');
  }

  /** Runs one attempt here (cancel and stop reach it as any other), resolving with how it ended. */
  run(request: LaunchRequest): Promise<AttemptEnd | null> {
    const controller = new AbortController();
    const done = executeAttempt(request, { ...this.#opts.deps, workerId: this.id }, controller.signal)
      .catch((err: unknown) => {
        this.#opts.logger.error({ err: describeError(err), attempt: request.attemptId }, 'attempt crashed');
        return null;
      })
      .finally(() => {
        this.#running.delete(request.attemptId);
        const f = this.#free;
        this.#free = null;
        f?.();
      });
    this.#running.set(request.attemptId, { request, controller, done });
    return done;
  }

  get running(): string[] {
    return [...this.#running.keys()];
  }

  async #onShared(raw: unknown): Promise<void> {
    const cmd = this.#parse(raw);
    if (cmd?.type !== 'start') return;
    // Backpressure: the next start is not taken until a slot is free.
    while (this.#running.size >= this.#opts.slots) await new Promise<void>((r) => (this.#free = r));
    void this.run(cmd.request);
  }

  async #onBroadcast(raw: unknown): Promise<void> {
    const cmd = this.#parse(raw);
    if (!cmd) return;
    if (cmd.type === 'cancel') this.#running.get(cmd.attemptId)?.controller.abort(new Error(cmd.reason));
    else if (cmd.type === 'stop') {
      for (const r of this.#running.values()) if (r.request.runId === cmd.runId) r.controller.abort(new Error(cmd.reason));
    } else if (cmd.type === 'ping' && (cmd.workerId === null || cmd.workerId === this.id)) {
      const pong: Pong = { v: 1, type: 'pong', nonce: cmd.nonce, workerId: this.id, running: this.running, ts: new Date().toISOString() };
      await this.#bus.publish(TOPICS.events, cmd.nonce, pong);
    }
  }

  #parse(raw: unknown): ControlCommand | null {
    try {
      return parseControlCommand(raw);
    } catch (err) {
      this.#opts.logger.warn({ err: describeError(err) }, 'dropped an invalid control command');
      return null;
    }
  }

  /**
   * Stops taking work and gives what runs a grace period to finish. What does not finish is
   * not reported cancelled: its heartbeats stop and the control plane retries it as lost,
   * so restarting workers (or the control plane) never ends a run.
   */
  async close(): Promise<void> {
    for (const s of this.#subs.splice(0)) await s.close();
    const grace = new Promise((r) => setTimeout(r, this.#opts.graceMs ?? 10_000).unref());
    await Promise.race([Promise.all([...this.#running.values()].map((r) => r.done)), grace]);
  }
}
