import { join } from 'node:path';
import { createChdbWarehouse } from '../adapters/chdb/chdb-warehouse.ts';
import { createClickHouseServerWarehouse } from '../adapters/clickhouse/clickhouse-server-warehouse.ts';
import { memorySettings } from '../adapters/clickhouse/clickhouse-warehouse.ts';
import { InProcessLauncher } from '../adapters/inprocess/inprocess-launcher.ts';
import { createKafkaBus } from '../adapters/kafka/kafka-bus.ts';
import { createMemoryBus } from '../adapters/memory-bus/memory-bus.ts';
import { WorkerPool } from '../adapters/subprocess/worker-pool.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import { BusLauncher } from '../runtime/bus-launcher.ts';
import { RetentionPruner } from '../runtime/retention.ts';
import { Scheduler } from '../runtime/scheduler.ts';
import { createPgliteMetadataStore } from '../adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../adapters/postgres/postgres-metadata-store.ts';
import { createPromMetrics } from '../adapters/prometheus/prom-metrics.ts';
import { createPushgatewayPusher } from '../adapters/prometheus/pushgateway-pusher.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import { executeAttempt } from '../runtime/attempt-executor.ts';
import { Coordinator } from '../runtime/coordinator.ts';
import { DurableCounters } from '../runtime/durable-counters.ts';
import { loadPipelines, type PipelineRegistry } from '../runtime/pipeline-registry.ts';
import { SafeQuery } from '../runtime/safe-query/safe-query.ts';
import type { Services } from '../runtime/services.ts';
import { WORKER_CONFIG_ENV, type SluiceConfig } from './config.ts';
import { openLogger } from './logger.ts';
import { openObjects } from './objects.ts';
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

export async function openMetadata(config: SluiceConfig): Promise<MetadataStore> {
  if (config.metadata.kind === 'postgres') {
    return createPostgresMetadataStore({ connectionString: config.metadata.url, schema: config.metadata.schema });
  }
  return createPgliteMetadataStore({ dataDir: join(config.home, 'metadata') });
}

export function openWarehouse(config: SluiceConfig): Warehouse {
  const settings = memorySettings(config.statementMemoryBytes);
  if (config.warehouse.kind === 'clickhouse') return createClickHouseServerWarehouse({ url: config.warehouse.url, settings });
  return createChdbWarehouse({ path: join(config.home, 'warehouse'), settings });
}

/** On a server the endpoint connects as its read-only user when one is configured. */
function openSafeQuery(config: SluiceConfig, registry: PipelineRegistry): SafeQuery {
  const wh = config.warehouse;
  const connect = wh.kind === 'clickhouse'
    ? () => createClickHouseServerWarehouse({ url: wh.queryUrl ?? wh.url, requestTimeoutMs: config.query.timeoutMs + 5_000 })
    : () => createChdbWarehouse({ path: join(config.home, 'warehouse') });
  return new SafeQuery({ connect, limits: config.query, databases: () => registry.databases() });
}

async function openBus(config: SluiceConfig, local: boolean): Promise<EventBus> {
  if (local || config.bus.kind === 'memory') return createMemoryBus();
  const { brokers, clientId, topicPrefix, topics } = config.bus;
  return createKafkaBus({
    bootstrap: brokers,
    clientId,
    topicPrefix,
    topics: [TOPICS.control, TOPICS.events].map((name) => ({ name, partitions: topics.partitions, retentionMs: topics.retentionMs })),
  });
}

/** Stores, metrics and pipelines; `local` keeps the bus in this process whatever the config says. */
async function openServices(config: SluiceConfig, local: boolean): Promise<{ services: Services & { metrics: DurableCounters }; registry: PipelineRegistry }> {
  const logger = openLogger(config);
  const registry = await loadPipelines(config.pipelines);
  const metadata = await openMetadata(config);
  await metadata.migrate();
  const metrics = new DurableCounters(createPromMetrics(), metadata, { logger });
  metrics.restore(await metadata.listGauges());
  const services = {
    metadata,
    warehouse: openWarehouse(config),
    objects: await openObjects(config),
    bus: await openBus(config, local),
    metrics,
    pusher: config.pushgatewayUrl ? createPushgatewayPusher({ url: config.pushgatewayUrl }) : null,
    logger,
  };
  return { services, registry };
}

function closer(services: Services & { metrics: DurableCounters }, ...first: { close(): Promise<unknown> }[]): () => Promise<void> {
  return async () => {
    for (const c of first) await c.close();
    // After the coordinator, whose last runs count here; before the store they are saved in.
    await services.metrics.close();
    await services.bus.close();
    await services.objects.close();
    await services.warehouse.close();
    await services.metadata.close();
  };
}

/**
 * Opens the stores a config names, discovers pipelines and wires a coordinator that runs
 * attempts in this process (`sluice run`, tests). With no URLs configured everything is
 * embedded under `config.home`: PGlite, chDB, a local object directory, the in-process bus.
 * Whoever runs this process is the one asking, so sources are trusted unless configured.
 */
export async function openRuntime(config: SluiceConfig): Promise<Runtime> {
  const { services, registry } = await openServices(config, true);
  const sources = sourcePolicyOf(config, 'trusted');
  const launcher = new InProcessLauncher((req, signal) =>
    executeAttempt(req, { registry, warehouse: services.warehouse, objects: services.objects, bus: services.bus, heartbeatMs: config.heartbeatMs, sources }, signal),
  );
  const coordinator = new Coordinator(services, registry, launcher, { heartbeatMs: config.heartbeatMs, maxConcurrentRuns: config.maxConcurrentRuns });
  await coordinator.start();
  const query = openSafeQuery(config, registry);
  return { config, services, registry, coordinator, query, close: closer(services, launcher, coordinator, query) };
}

/** Cron resolution is a minute; looking every 10 s fires a tick at most 10 s late. */
const SCHEDULER_TICK_MS = 10_000;
const RETENTION_EVERY_MS = 3_600_000;

export interface ControlPlane extends Runtime {
  readonly pool: WorkerPool;
}

/**
 * The control plane of `sluice dev` / `sluice server`: the configured bus (in-process or
 * Kafka), attempts launched as `start` commands and run by a pool of warm worker processes.
 * Workers reach what lives only in this process (the in-process bus, chDB) over IPC.
 * `sourceTrust` is what the starting command grants runs when the config does not say:
 * restricted unless told otherwise, since anyone with a token can name a source.
 */
export async function openControlPlane(config: SluiceConfig, options: { sourceTrust?: SourceTrust } = {}): Promise<ControlPlane> {
  const { services, registry } = await openServices(config, false);
  const pool = new WorkerPool({
    size: config.workers,
    bus: services.bus,
    bridgeBus: config.bus.kind === 'memory',
    warehouse: config.warehouse.kind === 'chdb' ? services.warehouse : undefined,
    worker: { home: config.home, pipelines: config.pipelines, heartbeatMs: config.heartbeatMs, logLevel: config.logLevel },
    env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(withSourceTrust(config, options.sourceTrust ?? 'restricted')) },
    logger: services.logger,
  });
  const launcher = new BusLauncher(services.bus, { kill: async (attemptId) => void (await pool.kill(attemptId)) });
  const coordinator = new Coordinator(services, registry, launcher, { heartbeatMs: config.heartbeatMs, maxConcurrentRuns: config.maxConcurrentRuns });
  await coordinator.start();
  await pool.start();
  const clock = { now: () => new Date() };
  const scheduler = new Scheduler({ registry, store: services.metadata.schedules, submit: (r) => coordinator.submit(r), clock, logger: services.logger });
  scheduler.start(SCHEDULER_TICK_MS);
  const retention = new RetentionPruner({
    store: services.metadata.schedules, maxAgeMs: config.retentionDays * 86_400_000, batchSize: 500, clock, logger: services.logger,
  });
  retention.start(RETENTION_EVERY_MS);
  const stop = { close: async () => Promise.all([scheduler.stop(), retention.stop()]) };
  const query = openSafeQuery(config, registry);
  return { config, services, registry, coordinator, pool, query, close: closer(services, stop, query, pool, coordinator) };
}
