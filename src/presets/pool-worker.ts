import { IpcBus } from '../adapters/ipc/ipc-bus.ts';
import { IpcClient } from '../adapters/ipc/ipc-client.ts';
import { IpcDataTopics } from '../adapters/ipc/ipc-data-topics.ts';
import { IpcWarehouse } from '../adapters/ipc/ipc-warehouse.ts';
import type { IpcEndpoint } from '../adapters/ipc/protocol.ts';
import { POOL_CHANNEL, parseWorkerArgs, poolCommandSchema, type PoolMessage } from '../adapters/subprocess/worker-protocol.ts';
import { describeError } from '../core/errors.ts';
import type { EventBus } from '../ports/event-bus.ts';
import { WORKER_CONFIG_ENV, configSchema, loadConfig } from './config.ts';
import { openLogger } from './logger.ts';
import { openOwnBus, openOwnWarehouse, openTopics } from './open-services.ts';
import { startWorker, type RunningWorker } from './start-worker.ts';

const POOL_WORKER_GRACE_MS = 5_000;

/**
 * The body of a process a WorkerPool forks (src/cli/worker-main.ts): one Worker, one
 * attempt at a time, on the bus and warehouse its command line names (see
 * src/adapters/subprocess/worker-protocol.ts), bridged over IPC to the control plane when
 * those live inside it (memory bus, chDB). Tells the pool when it is ready (or why it is
 * not), stops on SIGTERM, and exits when the control plane goes away.
 */
export async function runPoolWorker(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const args = parseWorkerArgs(argv);
  const graceMs = args.graceMs ?? POOL_WORKER_GRACE_MS;
  let running: RunningWorker | null = null;
  let bus: EventBus | null = null;
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Bounded: a stuck close must not keep the process (and its pool slot) alive.
    const limit = new Promise((r) => setTimeout(r, graceMs + 2_000).unref());
    await Promise.race([running?.close(), limit]).catch(() => undefined);
    process.exit(code);
  };
  // The pool stops workers with SIGTERM. A Ctrl-C in a terminal reaches the whole process
  // group, but the control plane decides when its workers go.
  process.on('SIGTERM', () => void shutdown(0));
  if (process.send) process.on('SIGINT', () => undefined);
  // The control plane died (or dropped us). Cancelling now would report "cancelled" on a
  // Kafka bus and end runs a restarted control plane can still finish: leave the bus (so
  // Kafka rebalances at once) and go without a word; the attempt's heartbeats stop and the
  // control plane retries it as lost.
  process.on('disconnect', () => {
    if (stopping) return;
    stopping = true;
    // What the abandoned attempt still tries to publish fails; it no longer matters.
    process.on('unhandledRejection', () => undefined);
    const limit = new Promise((r) => setTimeout(r, 2_000).unref());
    void Promise.race([bus?.close(), limit])
      .catch(() => undefined)
      .finally(() => process.exit(1));
  });
  // The control plane may have gone while this process was still loading, before anyone
  // listened for 'disconnect': without this check it would live on with nobody to serve.
  if (process.send && !process.connected) process.emit('disconnect');

  try {
    // The control plane hands its own validated config down, so a worker runs on exactly
    // the stores its parent does, whatever the parent's config came from.
    const handed = env[WORKER_CONFIG_ENV];
    const config = handed
      ? Object.freeze(configSchema.parse(JSON.parse(handed)))
      : loadConfig({ env, cwd: process.cwd(), home: args.home, pipelines: [...args.pipelines], logLevel: args.logLevel });
    const logger = openLogger(config, { worker: args.workerId, pid: process.pid });
    const client = args.bridge.bus || args.bridge.warehouse ? new IpcClient(process as IpcEndpoint) : null;
    bus = client && args.bridge.bus ? new IpcBus(client) : await openOwnBus(config, args.workerId);
    const topics = client && args.bridge.bus ? new IpcDataTopics(client) : await openTopics(config, false, args.workerId);
    const warehouse = client && args.bridge.warehouse ? new IpcWarehouse(client) : await openOwnWarehouse(config);
    const started = await startWorker({ id: args.workerId, slots: config.workerSlots, config, bus, topics, warehouse, logger, heartbeatMs: args.heartbeatMs, graceMs });
    running = started;
    // The control plane reloaded its pipelines: so does this worker, keeping the versions it
    // had for attempts of runs that started before.
    process.on('message', (raw) => {
      const cmd = poolCommandSchema.safeParse(raw);
      if (!cmd.success) return;
      const { id } = cmd.data;
      void started.registry.reload().then(
        () => tellPool({ ch: POOL_CHANNEL, v: 1, t: 'reloaded', workerId: args.workerId, id, ok: true }),
        (err: unknown) => tellPool({ ch: POOL_CHANNEL, v: 1, t: 'reloaded', workerId: args.workerId, id, ok: false, message: describeError(err) }),
      );
    });
    await tellPool({ ch: POOL_CHANNEL, v: 1, t: 'ready', workerId: args.workerId, pid: process.pid });
  } catch (err) {
    process.stderr.write(`sluice worker ${args.workerId}: ${describeError(err)}\n`);
    await tellPool({ ch: POOL_CHANNEL, v: 1, t: 'fatal', workerId: args.workerId, message: describeError(err) });
    await shutdown(1);
  }
}

/** Resolves once the message is on the channel (or there is none), so an exit right after does not drop it. */
function tellPool(m: PoolMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

