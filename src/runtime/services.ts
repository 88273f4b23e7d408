import type { DataTopics } from '../ports/data-topics.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** The adapters a process runs on, chosen by a preset and passed in whole. */
export interface Services {
  readonly metadata: MetadataStore;
  readonly warehouse: Warehouse;
  readonly objects: ObjectStore;
  readonly bus: EventBus;
  /** The data plane's topics (streams); in-process with the memory bus, Kafka with Kafka. */
  readonly topics: DataTopics;
  readonly metrics: Metrics;
  readonly logger: Logger;
}
