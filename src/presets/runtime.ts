import { InProcessLauncher } from '../adapters/inprocess/inprocess-launcher.ts';
import { createPushgatewayPusher } from '../adapters/prometheus/pushgateway-pusher.ts';
import { WorkerPool } from '../adapters/subprocess/worker-pool.ts';
import { executeAttempt } from '../runtime/attempt-executor.ts';
import { BusLauncher } from '../runtime/bus-launcher.ts';
import { Coordinator } from '../runtime/coordinator.ts';
import { MetricsPush } from '../runtime/metrics-push.ts';
import { loadPipelines, type PipelineRegistry } from '../runtime/pipeline-registry.ts';
import { RetentionPruner } from '../runtime/retention.ts';
import { SafeQuery } from '../runtime/safe-query/safe-query.ts';
import { Scheduler } from '../runtime/scheduler.ts';
import type { Services } from '../runtime/services.ts';
import { WORKER_CONFIG_ENV, type SluiceConfig } from './config.ts';
import { ValidationError } from '../core/errors.ts';
import { openKubernetesLauncher, type KubernetesLauncherSection } from './kubernetes-launcher.ts';
import { closeServices, openQueryConnector, openServices } from './open-services.ts';
import { sourcePolicyOf, withSourceTrust, type SourceTrust } from './source-policy.ts';

export interface Runtime {
  readonly config: SluiceConfig;
  readonly services: Services;
  readonly registry: PipelineRegistry;
  readonly coordinator: Coordinator;
  /** Untrusted SQL (`POST /query`, `sluice query`): parser-checked, limited, on connections of its own. */
  readonly query: SafeQuery;
  close(): Promise<void>;
}

/** With a Pushgateway configured, a run's end pushes the metrics; what is pushing when the runtime closes finishes first. */
function pushOnRunEnd(config: SluiceConfig, services: Services, coordinator: Coordinator): { close(): Promise<void> } {
  if (!config.pushgatewayUrl) return { close: async () => undefined };
  const push = new MetricsPush(createPushgatewayPusher({ url: config.pushgatewayUrl }), services.metrics, services.logger);
  coordinator.onUpdate(push.listener);
  return push;
}

async function openSafeQuery(config: SluiceConfig, registry: PipelineRegistry): Promise<SafeQuery> {
  return new SafeQuery({ connect: await openQueryConnector(config), limits: config.query, databases: () => registry.databases() });
}

/**
 * Opens the stores a config names, discovers pipelines and wires a coordinator that runs
 * attempts in this process (`sluice run`, tests). With no URLs configured everything is
 * embedded under `config.home`: PGlite, chDB, a local object directory, the in-process bus.
 * Whoever runs this process is the one asking, so sources are trusted unless configured.
 */
export async function openRuntime(config: SluiceConfig): Promise<Runtime> {
  const registry = await loadPipelines(config.pipelines);
  const services = await openServices(config, { local: true });
  const sources = sourcePolicyOf(config, 'trusted');
  const launcher = new InProcessLauncher((req, signal) =>
    executeAttempt(req, { registry, warehouse: services.warehouse, objects: services.objects, bus: services.bus, topics: services.topics, heartbeatMs: config.heartbeatMs, sources }, signal),
  );
  const coordinator = new Coordinator(services, registry, launcher, { heartbeatMs: config.heartbeatMs, maxConcurrentRuns: config.maxConcurrentRuns, scaleCheckMs: config.scaleCheckMs });
  const push = pushOnRunEnd(config, services, coordinator);
  await coordinator.start();
  const query = await openSafeQuery(config, registry);
  return { config, services, registry, coordinator, query, close: closeServices(services, launcher, coordinator, push, query) };
}

/** Cron resolution is a minute; looking every 10 s fires a tick at most 10 s late. */
const SCHEDULER_TICK_MS = 10_000;
const RETENTION_EVERY_MS = 3_600_000;

export interface ControlPlane extends Runtime {
  /** The warm workers; null when attempts run as Kubernetes Jobs. */
  readonly pool: WorkerPool | null;
}

/**
 * The control plane of `sluice dev` / `sluice server`: the configured bus (in-process or
 * Kafka), attempts launched as `start` commands and run by a pool of warm worker processes.
 * Workers reach what lives only in this process (the in-process bus, chDB) over IPC.
 * `sourceTrust` is what the starting command grants runs when the config does not say:
 * restricted unless told otherwise, since anyone with a token can name a source.
 * `onFenced`, for a process that won the leadership: it claims the next leader epoch, and
 * hears when a later leader's claim fails one of its writes (it must then stop).
 */
export async function openControlPlane(config: SluiceConfig, options: { sourceTrust?: SourceTrust; onFenced?: (err: Error) => void } = {}): Promise<ControlPlane> {
  const registry = await loadPipelines(config.pipelines);
  const services = await openServices(config, { local: false });
  // Before the coordinator takes over any run: from here, an earlier leader's writes fail.
  if (options.onFenced) await services.metadata.claimLeadership(options.onFenced);
  const section = config.launcher;
  if (section.kind === 'kubernetes' && (config.bus.kind !== 'kafka' || config.warehouse.kind !== 'clickhouse')) {
    await closeServices(services)();
    throw new ValidationError('configuration: launcher.kind kubernetes needs a Kafka bus and a ClickHouse server (SLUICE_KAFKA_BROKERS, SLUICE_WAREHOUSE_URL): pods cannot reach the in-process bus or chDB', 'launcher');
  }
  const pool = section.kind === 'kubernetes' ? null : new WorkerPool({
    size: config.workers,
    bus: services.bus,
    topics: services.topics,
    bridgeBus: config.bus.kind === 'memory',
    warehouse: config.warehouse.kind === 'chdb' ? services.warehouse : undefined,
    worker: { home: config.home, pipelines: config.pipelines, heartbeatMs: config.heartbeatMs, logLevel: config.logLevel },
    env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(withSourceTrust(config, options.sourceTrust ?? 'restricted')) },
    logger: services.logger,
  });
  const launcher = pool
    ? new BusLauncher(services.bus, { kill: async (attemptId) => void (await pool.kill(attemptId)) })
    : await openKubernetesLauncher(config, section as KubernetesLauncherSection, options.sourceTrust ?? 'restricted', services.bus, services.logger);
  const coordinator = new Coordinator(services, registry, launcher, { heartbeatMs: config.heartbeatMs, maxConcurrentRuns: config.maxConcurrentRuns, scaleCheckMs: config.scaleCheckMs });
  const push = pushOnRunEnd(config, services, coordinator);
  await coordinator.start();
  await pool?.start();
  const clock = { now: () => new Date() };
  const scheduler = new Scheduler({ registry, store: services.metadata.schedules, submit: (r) => coordinator.submit(r), clock, logger: services.logger, metrics: services.metrics });
  scheduler.start(SCHEDULER_TICK_MS);
  const retention = new RetentionPruner({
    store: services.metadata.schedules, maxAgeMs: config.retentionDays * 86_400_000, batchSize: 500, clock, logger: services.logger,
  });
  retention.start(RETENTION_EVERY_MS);
  const stop = { close: async () => Promise.all([scheduler.stop(), retention.stop()]) };
  const query = await openSafeQuery(config, registry);
  return { config, services, registry, coordinator, pool, query, close: closeServices(services, stop, query, pool ?? launcher, coordinator, push) };
}
