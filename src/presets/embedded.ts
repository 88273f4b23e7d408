import { join } from 'node:path';
import type { EngineSettings } from '../adapters/clickhouse/clickhouse-warehouse.ts';
import { createLocalObjectStore } from '../adapters/local-fs/local-object-store.ts';
import { createMemoryBus } from '../adapters/memory-bus/memory-bus.ts';
import { createMemoryDataTopics } from '../adapters/memory-topics/memory-data-topics.ts';
import type { DataTopics } from '../ports/data-topics.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';

/**
 * The embedded preset: every store inside one process, under the state directory. PGlite
 * for metadata, chDB for the warehouse, a directory for objects, the in-process bus. The
 * engines allow one process per directory: the control plane opens them and its workers
 * reach them over IPC. The engines load on first use, so a worker that only needs the
 * object directory never maps chDB or PGlite.
 */
export const embedded = {
  async metadata(home: string): Promise<MetadataStore> {
    const { createPgliteMetadataStore } = await import('../adapters/pglite/pglite-metadata-store.ts');
    return createPgliteMetadataStore({ dataDir: join(home, 'metadata') });
  },
  /** A connector: every call is a session of its own on the same data directory. */
  async warehouse(home: string): Promise<(settings?: EngineSettings) => Warehouse> {
    const { createChdbWarehouse } = await import('../adapters/chdb/chdb-warehouse.ts');
    return (settings) => createChdbWarehouse({ path: join(home, 'warehouse'), settings });
  },
  objects: (home: string): ObjectStore => createLocalObjectStore({ root: join(home, 'objects') }),
  bus: (): EventBus => createMemoryBus(),
  topics: (): DataTopics => createMemoryDataTopics(),
};
