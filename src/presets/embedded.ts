import { join } from 'node:path';
import pino from 'pino';
import { createChdbWarehouse } from '../adapters/chdb/chdb-warehouse.ts';
import { createClickHouseServerWarehouse } from '../adapters/clickhouse/clickhouse-server-warehouse.ts';
import { InProcessLauncher } from '../adapters/inprocess/inprocess-launcher.ts';
import { createLocalObjectStore } from '../adapters/local-fs/local-object-store.ts';
import { createMemoryBus } from '../adapters/memory-bus/memory-bus.ts';
import { createPgliteMetadataStore } from '../adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../adapters/postgres/postgres-metadata-store.ts';
import { createPromMetrics } from '../adapters/prometheus/prom-metrics.ts';
import { createPushgatewayPusher } from '../adapters/prometheus/pushgateway-pusher.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import { executeAttempt } from '../runtime/attempt-executor.ts';
import { Coordinator } from '../runtime/coordinator.ts';
import { loadPipelines, type PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { Services } from '../runtime/services.ts';
import type { SluiceConfig } from './config.ts';

export interface Runtime {
  readonly config: SluiceConfig;
  readonly services: Services;
  readonly registry: PipelineRegistry;
  readonly coordinator: Coordinator;
  close(): Promise<void>;
}

async function openMetadata(config: SluiceConfig): Promise<MetadataStore> {
  if (config.metadata.kind === 'postgres') {
    return createPostgresMetadataStore({ connectionString: config.metadata.url, schema: config.metadata.schema });
  }
  return createPgliteMetadataStore({ dataDir: join(config.home, 'metadata') });
}

function openWarehouse(config: SluiceConfig): Warehouse {
  if (config.warehouse.kind === 'clickhouse') return createClickHouseServerWarehouse({ url: config.warehouse.url });
  return createChdbWarehouse({ path: join(config.home, 'warehouse') });
}

/**
 * Opens the stores a config names, discovers pipelines and wires a coordinator that runs
 * attempts in this process. With no URLs configured everything is embedded under
 * `config.home`: PGlite, chDB, a local object directory, the in-process bus.
 */
export async function openRuntime(config: SluiceConfig): Promise<Runtime> {
  const logger = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
  const registry = await loadPipelines(config.pipelines);
  const metadata = await openMetadata(config);
  await metadata.migrate();
  const metrics = createPromMetrics();
  for (const g of await metadata.listGauges()) metrics.setGauge(g.name, g.help, g.labels, g.value);
  const services: Services = {
    metadata,
    warehouse: openWarehouse(config),
    objects: createLocalObjectStore({ root: join(config.home, 'objects') }),
    bus: createMemoryBus(),
    metrics,
    pusher: config.pushgatewayUrl ? createPushgatewayPusher({ url: config.pushgatewayUrl }) : null,
    logger,
  };
  const launcher = new InProcessLauncher((req, signal) =>
    executeAttempt(req, { registry, warehouse: services.warehouse, objects: services.objects, bus: services.bus, heartbeatMs: config.heartbeatMs }, signal),
  );
  const coordinator = new Coordinator(services, registry, launcher, { heartbeatMs: config.heartbeatMs });
  await coordinator.start();
  return {
    config,
    services,
    registry,
    coordinator,
    async close() {
      await launcher.close();
      await coordinator.close();
      await services.bus.close();
      await services.objects.close();
      await services.warehouse.close();
      await metadata.close();
    },
  };
}
