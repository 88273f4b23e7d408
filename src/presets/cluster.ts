import type { EngineSettings } from '../adapters/clickhouse/clickhouse-warehouse.ts';
import type { DataTopics } from '../ports/data-topics.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import type { SluiceConfig } from './config.ts';

type Section<K extends keyof SluiceConfig, Kind> = Extract<SluiceConfig[K], { kind: Kind }>;
export type PostgresSection = Section<'metadata', 'postgres'>;
export type ClickHouseSection = Section<'warehouse', 'clickhouse'>;
export type KafkaSection = Section<'bus', 'kafka'>;
export type S3Section = Section<'objects', 's3'>;

/**
 * The cluster preset: every store a service of its own that many processes share.
 * PostgreSQL, a ClickHouse server, Kafka, S3 (or MinIO). Each client loads on first use, so
 * a process pays only for what its config names.
 */
export const cluster = {
  async metadata(c: PostgresSection): Promise<MetadataStore> {
    const { createPostgresMetadataStore } = await import('../adapters/postgres/postgres-metadata-store.ts');
    return createPostgresMetadataStore({ connectionString: c.url, schema: c.schema });
  },
  /** A connector to `url` (the pipelines' user, or the query endpoint's read-only one). */
  async warehouse(url: string): Promise<(o?: { settings?: EngineSettings; requestTimeoutMs?: number }) => Warehouse> {
    const { createClickHouseServerWarehouse } = await import('../adapters/clickhouse/clickhouse-server-warehouse.ts');
    return (o = {}) => createClickHouseServerWarehouse({ url, ...o });
  },
  /** Every process on the bus declares the protocol topics the same way, whichever comes up first creates them. */
  async bus(c: KafkaSection, clientId = c.clientId): Promise<EventBus> {
    const { createKafkaBus } = await import('../adapters/kafka/kafka-bus.ts');
    return createKafkaBus({
      bootstrap: c.brokers,
      clientId,
      sasl: c.sasl,
      topicPrefix: c.topicPrefix,
      topics: [TOPICS.control, TOPICS.events].map((name) => ({ name, partitions: c.topics.partitions, retentionMs: c.topics.retentionMs })),
    });
  },
  /** The data topics on the same brokers, with the bus's credentials and prefix. */
  async topics(c: KafkaSection, clientId = c.clientId): Promise<DataTopics> {
    const { createKafkaDataTopics } = await import('../adapters/kafka/kafka-data-topics.ts');
    return createKafkaDataTopics({ bootstrap: c.brokers, clientId: `${clientId}-data`, sasl: c.sasl, topicPrefix: c.topicPrefix, partitions: c.topics.partitions });
  },
  async objects(c: S3Section): Promise<ObjectStore> {
    const { createS3ObjectStore } = await import('../adapters/s3/s3-object-store.ts');
    const { bucket, prefix, endpoint, region, forcePathStyle, credentials } = c;
    return createS3ObjectStore({ bucket, prefix, endpoint, region, forcePathStyle, credentials });
  },
};
