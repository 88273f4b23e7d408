import { memorySettings } from '../adapters/clickhouse/clickhouse-warehouse.ts';
import { NotSupportedError } from '../core/errors.ts';
import type { DataTopics } from '../ports/data-topics.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import { createPromMetrics } from '../adapters/prometheus/prom-metrics.ts';
import { DurableCounters } from '../runtime/durable-counters.ts';
import type { Services } from '../runtime/services.ts';
import { cluster } from './cluster.ts';
import type { SluiceConfig } from './config.ts';
import { embedded } from './embedded.ts';
import { openLogger } from './logger.ts';

// Each store is chosen by its own config section: a laptop may run PGlite beside a
// ClickHouse server, a cluster Postgres beside chDB in tests.

export async function openMetadata(config: SluiceConfig): Promise<MetadataStore> {
  return config.metadata.kind === 'postgres' ? cluster.metadata(config.metadata) : embedded.metadata(config.home);
}

/** The pipelines' warehouse, every statement bounded by `statementMemoryBytes`. */
export async function openWarehouse(config: SluiceConfig): Promise<Warehouse> {
  const settings = memorySettings(config.statementMemoryBytes);
  if (config.warehouse.kind === 'clickhouse') return (await cluster.warehouse(config.warehouse.url))({ settings });
  return (await embedded.warehouse(config.home))(settings);
}

/**
 * Connections for untrusted SQL, one per running statement: on a server as its read-only
 * user when one is configured, the request bounded a little past the query's own limit.
 */
export async function openQueryConnector(config: SluiceConfig): Promise<() => Warehouse> {
  const wh = config.warehouse;
  if (wh.kind === 'clickhouse') {
    const connect = await cluster.warehouse(wh.queryUrl ?? wh.url);
    return () => connect({ requestTimeoutMs: config.query.timeoutMs + 5_000 });
  }
  const connect = await embedded.warehouse(config.home);
  return () => connect();
}

/** `local` keeps the bus in this process whatever the config says (`sluice run`, tests). */
export async function openBus(config: SluiceConfig, local = false): Promise<EventBus> {
  return local || config.bus.kind === 'memory' ? embedded.bus() : cluster.bus(config.bus);
}

/** The data topics beside the bus: in this process with the memory bus, Kafka with Kafka. */
export async function openTopics(config: SluiceConfig, local = false, clientId?: string): Promise<DataTopics> {
  return local || config.bus.kind === 'memory' ? embedded.topics() : cluster.topics(config.bus, clientId);
}

export async function openObjects(config: SluiceConfig): Promise<ObjectStore> {
  return config.objects.kind === 's3' ? cluster.objects(config.objects) : embedded.objects(config.home);
}

/** The bus a worker outside the control plane connects to itself: Kafka. */
export async function openOwnBus(config: SluiceConfig, clientId: string): Promise<EventBus> {
  if (config.bus.kind !== 'kafka') {
    throw new NotSupportedError(
      'this worker has no bus of its own: no Kafka bus is configured (SLUICE_KAFKA_BROKERS), and the in-process bus lives in the control plane ' +
        '(a WorkerPool bridges it with bridgeBus: true)',
    );
  }
  return cluster.bus(config.bus, clientId);
}

/** The warehouse a worker outside the control plane connects to itself: a ClickHouse server. */
export async function openOwnWarehouse(config: SluiceConfig): Promise<Warehouse> {
  if (config.warehouse.kind !== 'clickhouse') {
    throw new NotSupportedError(
      'this worker has no warehouse of its own: chDB lives in the control plane (a WorkerPool bridges it when given the warehouse); ' +
        'set SLUICE_WAREHOUSE_URL for a ClickHouse server',
    );
  }
  return (await cluster.warehouse(config.warehouse.url))({ settings: memorySettings(config.statementMemoryBytes) });
}

export type OpenServices = Services & { readonly metrics: DurableCounters };

/**
 * Every store a config names, migrated, with counters restored from the metadata store.
 * What fails half way is closed again, so a retry finds no lock held.
 */
export async function openServices(config: SluiceConfig, options: { local: boolean }): Promise<OpenServices> {
  const logger = openLogger(config);
  const metadata = await openMetadata(config);
  const opened: { close(): Promise<unknown> }[] = [metadata];
  try {
    await metadata.migrate();
    const metrics = new DurableCounters(createPromMetrics({ processMetrics: true }), metadata.gauges, { logger });
    metrics.restore(await metadata.gauges.list());
    const warehouse = await openWarehouse(config);
    opened.push(warehouse);
    const objects = await openObjects(config);
    opened.push(objects);
    const topics = await openTopics(config, options.local);
    opened.push(topics);
    const bus = await openBus(config, options.local);
    return { metadata, warehouse, objects, bus, topics, metrics, logger };
  } catch (err) {
    for (const c of opened.reverse()) await c.close().catch(() => undefined);
    throw err;
  }
}

/** Closes what runs on the services first (in order), then the services, the store last. */
export function closeServices(services: OpenServices, ...first: { close(): Promise<unknown> }[]): () => Promise<void> {
  return async () => {
    for (const c of first) await c.close();
    // After the coordinator, whose last runs count here; before the store they are saved in.
    await services.metrics.close();
    await services.bus.close();
    await services.topics.close();
    await services.objects.close();
    await services.warehouse.close();
    await services.metadata.close();
  };
}
