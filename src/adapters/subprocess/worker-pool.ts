import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ConflictError, UnavailableError, ValidationError } from '../../core/errors.ts';
import { TOPICS, type EventBus, type Subscription } from '../../ports/event-bus.ts';
import type { Warehouse } from '../../ports/warehouse.ts';
import type { DataTopics } from '../../ports/data-topics.ts';
import { IpcHost } from '../ipc/ipc-host.ts';
import { POOL_CHANNEL, formatWorkerArgs, poolMessageSchema, type PoolCommand, type WorkerProcessArgs } from './worker-protocol.ts';

export interface WorkerPoolLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerPoolOptions {
  /** Warm worker processes kept running. */
  readonly size: number;
  /** The control plane's bus: watched for `attempt.started` (who runs what), bridged to workers when `bridgeBus`. */
  readonly bus: EventBus;
  /** Workers reach `bus` over IPC (the in-process bus); false when they connect to Kafka themselves. */
  readonly bridgeBus: boolean;
  /** Given: workers reach these data topics over IPC with the bus (the in-process log). */
  readonly topics?: DataTopics;
  /** Given: workers reach this warehouse over IPC (chDB lives in this process). Omitted: they connect themselves. */
  readonly warehouse?: Warehouse;
  /** What each worker is told on its command line besides its id and the bridge. */
  readonly worker: Omit<WorkerProcessArgs, 'workerId' | 'bridge'>;
  readonly logger: WorkerPoolLogger;
  /** The module each child runs; default `src/cli/worker-main.ts`. */
  readonly entry?: string;
  /** The children's environment; default this process's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Node flags for the children; default none (not this process's, which may be a test runner's). */
  readonly execArgv?: readonly string[];
  /** The children's stdout/stderr; default inherited. */
  readonly output?: 'inherit' | 'ignore';
  /** First restart delay after a crash, doubled per quick successive crash; default 250 ms. */
  readonly restartBackoffMs?: number;
  readonly maxRestartBackoffMs?: number;
  /** Restarts of one worker slot allowed per minute before it waits out the minute; default 10. */
  readonly maxRestartsPerMinute?: number;
  /** How long a worker may take from fork to ready; default 60 s. */
  readonly readyTimeoutMs?: number;
  /** After SIGTERM on close, how long before SIGKILL; default 10 s. */
  readonly closeGraceMs?: number;
}

/** One worker's answer to `reload()`. */
export interface WorkerReload {
  readonly workerId: string;
  readonly ok: boolean;
  readonly message?: string;
}

export interface PoolWorkerInfo {
  readonly id: string;
  readonly slot: number;
  readonly pid: number | null;
  readonly alive: boolean;
  readonly ready: boolean;
  /** Attempts this worker reported starting and has not finished. */
  readonly running: readonly string[];
  /** How many times this slot's worker was respawned. */
  readonly restarts: number;
  /** Fork to ready, in ms, of the current process (null until ready). */
  readonly startupMs: number | null;
}

interface Slot {
  readonly index: number;
  generation: number;
  restarts: number;
  child: ChildProcess | null;
  host: IpcHost | null;
  workerId: string;
  forkedAt: number;
  readyAt: number | null;
  readonly running: Set<string>;
  /** Recent restart times, for the rate bound. */
  recent: number[];
  /** Successive crashes soon after start, for the backoff. */
  quickCrashes: number;
  timer: NodeJS.Timeout | null;
}

/** The worker entry shipped with Sluice (a path, not an import: adapters do not depend on the CLI). */
export const DEFAULT_WORKER_ENTRY = fileURLToPath(new URL('../../cli/worker-main.ts', import.meta.url));

const HEALTHY_AFTER_MS = 30_000;
const MINUTE = 60_000;

/**
 * Warm worker processes for the control plane: each runs a `Worker` that takes `start`
 * commands from the shared group, so a launch (BusLauncher) costs no process start and a
 * `kill -9` of a worker loses only its own attempt. A worker that exits is respawned after
 * a short backoff (bounded per minute). The pool learns which attempt runs where from
 * `attempt.started` events, so the coordinator can `kill` an attempt that ignores cancel.
 *
 * @example
 * const pool = new WorkerPool({ size: 4, bus, bridgeBus: true, warehouse, logger,
 *   worker: { home: config.home, pipelines: config.pipelines, heartbeatMs: config.heartbeatMs } });
 * await pool.start();
 * const coordinatorLauncher = new BusLauncher(bus);
 */
export class WorkerPool {
  readonly #opts: WorkerPoolOptions;
  readonly #poolId = randomUUID().slice(0, 6);
  readonly #slots: Slot[] = [];
  #events: Subscription | null = null;
  #started = false;
  /** Set once every first worker was ready; before that a worker that dies is not respawned (start fails). */
  #up = false;
  #closing: Promise<void> | null = null;
  /** Reloads waiting for a worker's answer, by `<reload id>:<worker id>`. */
  readonly #reloads = new Map<string, (r: WorkerReload) => void>();

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new ValidationError(`worker pool size must be a positive integer, got ${options.size}`);
    this.#opts = options;
  }

  /** Forks every worker and resolves once all are ready; fails (and cleans up) if one cannot start. */
  async start(): Promise<void> {
    if (this.#started) throw new ConflictError('worker pool already started');
    this.#started = true;
    this.#events = await this.#opts.bus.subscribe(TOPICS.events, { group: `sluice-pool-${this.#poolId}` }, (m) => this.#onEvent(m.value));
    const ready: Promise<void>[] = [];
    for (let index = 0; index < this.#opts.size; index++) {
      const slot: Slot = {
        index, generation: 0, restarts: 0, child: null, host: null, workerId: '', forkedAt: 0, readyAt: null,
        running: new Set(), recent: [], quickCrashes: 0, timer: null,
      };
      this.#slots.push(slot);
      ready.push(this.#spawn(slot));
    }
    const results = await Promise.allSettled(ready);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    this.#up = true;
  }

  workers(): PoolWorkerInfo[] {
    return this.#slots.map((s) => ({
      id: s.workerId,
      slot: s.index,
      pid: s.child?.pid ?? null,
      alive: s.child !== null && s.child.exitCode === null && s.child.signalCode === null,
      ready: s.readyAt !== null,
      running: [...s.running],
      restarts: s.restarts,
      startupMs: s.readyAt === null ? null : s.readyAt - s.forkedAt,
    }));
  }

  /**
   * SIGKILLs the process running `attemptId` (for an attempt that ignores cancellation past
   * its grace period); resolves true once it is gone, false when no worker runs it.
   */
  async kill(attemptId: string): Promise<boolean> {
    const slot = this.#slots.find((s) => s.running.has(attemptId));
    const child = slot?.child;
    if (!slot || !child) return false;
    this.#opts.logger.warn({ worker: slot.workerId, pid: child.pid, attempt: attemptId }, 'killing the worker running an attempt');
    const exited = exitOf(child);
    child.kill('SIGKILL');
    await exited;
    return true;
  }

  /**
   * Tells every ready worker to load its pipelines again (the control plane reloaded
   * them) and resolves with each one's answer, or a failed one for a worker that did not
   * answer within `timeoutMs` or exited. Workers keep the versions they had, for attempts
   * of runs that started before; a worker forked later loads the pipelines at start.
   */
  reload(timeoutMs = 30_000): Promise<WorkerReload[]> {
    const id = randomUUID();
    const asked = this.#slots.filter((s) => s.child?.connected && s.readyAt !== null);
    return Promise.all(
      asked.map(
        (slot) =>
          new Promise<WorkerReload>((resolve) => {
            const workerId = slot.workerId;
            const key = `${id}:${workerId}`;
            const done = (r: WorkerReload) => {
              clearTimeout(timer);
              this.#reloads.delete(key);
              resolve(r);
            };
            const timer = setTimeout(() => done({ workerId, ok: false, message: `no answer within ${timeoutMs} ms` }), timeoutMs);
            this.#reloads.set(key, done);
            const command: PoolCommand = { ch: POOL_CHANNEL, v: 1, t: 'reload', id };
            slot.child!.send(command, (err) => {
              if (err) done({ workerId, ok: false, message: `could not be told: ${err.message}` });
            });
          }),
      ),
    );
  }

  /** SIGTERM to every worker (they cancel what runs and exit), SIGKILL after the grace period. */
  close(): Promise<void> {
    if (!this.#closing) this.#closing = this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const s of this.#slots) if (s.timer) clearTimeout(s.timer);
    const grace = this.#opts.closeGraceMs ?? 10_000;
    await Promise.all(
      this.#slots.map(async (slot) => {
        const child = slot.child;
        if (child) {
          const exited = exitOf(child);
          child.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
          clearTimeout(timer);
          if (late) {
            this.#opts.logger.warn({ worker: slot.workerId, pid: child.pid }, `worker did not stop within ${grace} ms; killing it`);
            child.kill('SIGKILL');
            await exited;
          }
        }
        await slot.host?.close();
      }),
    );
    await this.#events?.close();
  }

  #spawn(slot: Slot): Promise<void> {
    const o = this.#opts;
    slot.generation += 1;
    slot.workerId = `${this.#poolId}-w${slot.index}.${slot.generation}`;
    slot.readyAt = null;
    slot.forkedAt = Date.now();
    const bridge = { bus: o.bridgeBus, warehouse: o.warehouse !== undefined };
    const output = o.output ?? 'inherit';
    const child = fork(o.entry ?? DEFAULT_WORKER_ENTRY, formatWorkerArgs({ ...o.worker, workerId: slot.workerId, bridge }), {
      execPath: process.execPath,
      execArgv: [...(o.execArgv ?? [])],
      env: o.env,
      cwd: o.cwd,
      serialization: 'advanced',
      stdio: ['ignore', output, output, 'ipc'],
    });
    slot.child = child;
    slot.host = bridge.bus || bridge.warehouse ? new IpcHost({ child, bus: bridge.bus ? o.bus : undefined, topics: bridge.bus ? o.topics : undefined, warehouse: o.warehouse, logger: o.logger }) : null;
    const workerId = slot.workerId;

    return new Promise<void>((resolve, reject) => {
      const timeoutMs = o.readyTimeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        fail(new UnavailableError(`worker ${workerId} was not ready within ${timeoutMs} ms`));
        child.kill('SIGKILL');
      }, timeoutMs);
      let fatal: string | null = null;
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      child.on('message', (raw) => {
        if ((raw as { ch?: unknown } | null)?.ch !== POOL_CHANNEL) return;
        const m = poolMessageSchema.safeParse(raw);
        if (!m.success) return o.logger.warn({ worker: workerId, err: m.error.message }, 'dropped an invalid message from a worker');
        if (m.data.t === 'fatal') {
          fatal = m.data.message;
          return;
        }
        if (m.data.t === 'reloaded') {
          const { ok, message } = m.data;
          this.#reloads.get(`${m.data.id}:${workerId}`)?.({ workerId, ok, message });
          return;
        }
        clearTimeout(timer);
        slot.readyAt = Date.now();
        o.logger.info({ worker: workerId, pid: child.pid, startupMs: slot.readyAt - slot.forkedAt }, 'worker process ready');
        resolve();
      });
      child.once('error', (err) => {
        o.logger.error({ worker: workerId, err: err.message }, 'worker process error');
        fail(new UnavailableError(`worker ${workerId} could not be started: ${err.message}`, { cause: err }));
      });
      child.once('exit', (code, signal) => {
        const why = fatal ?? `exited (${signal ?? `code ${code}`}) before it was ready`;
        fail(new UnavailableError(`worker ${workerId}: ${why}`, { retryable: fatal === null }));
        this.#onExit(slot, child, code, signal);
      });
    });
  }

  #onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    const lost = [...slot.running];
    slot.running.clear();
    for (const [key, done] of this.#reloads) if (key.endsWith(`:${slot.workerId}`)) done({ workerId: slot.workerId, ok: false, message: 'exited' });
    slot.child = null;
    void slot.host?.close();
    slot.host = null;
    if (this.#closing || (!this.#up && slot.readyAt === null)) return;
    this.#opts.logger.warn({ worker: slot.workerId, pid: child.pid, code, signal, lost }, 'worker process exited; respawning');
    const now = Date.now();
    slot.quickCrashes = now - slot.forkedAt > HEALTHY_AFTER_MS ? 1 : slot.quickCrashes + 1;
    const base = this.#opts.restartBackoffMs ?? 250;
    let delay = Math.min(base * 2 ** (slot.quickCrashes - 1), this.#opts.maxRestartBackoffMs ?? 10_000);
    slot.recent = slot.recent.filter((t) => now - t < MINUTE);
    const perMinute = this.#opts.maxRestartsPerMinute ?? 10;
    if (slot.recent.length >= perMinute) {
      delay = Math.max(delay, (slot.recent[0] as number) + MINUTE - now);
      this.#opts.logger.error({ worker: slot.workerId, restarts: slot.recent.length, delayMs: delay }, 'worker restarting too often; waiting before the next restart');
    }
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.#closing) return;
      slot.recent.push(Date.now());
      slot.restarts += 1;
      this.#spawn(slot).catch((err: unknown) => this.#opts.logger.error({ slot: slot.index, err: (err as Error).message }, 'worker respawn failed'));
    }, delay);
  }

  #onEvent(raw: unknown): void {
    const e = raw as { type?: unknown; attemptId?: unknown; workerId?: unknown } | null;
    if (typeof e?.attemptId !== 'string') return;
    if (e.type === 'attempt.started' && typeof e.workerId === 'string') {
      // An attempt reported by a previous (dead) generation of a slot matches no worker id.
      this.#slots.find((s) => s.workerId === e.workerId && s.child !== null)?.running.add(e.attemptId);
    } else if (e.type === 'attempt.succeeded' || e.type === 'attempt.failed') {
      for (const s of this.#slots) s.running.delete(e.attemptId);
    }
  }
}

/** Resolves once the child has exited (at once if it already has). */
function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
