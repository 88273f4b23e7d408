/** One record of a data topic, as a reader gets it: the raw bytes, never parsed here. */
export interface DataRecord {
  readonly topic: string;
  readonly partition: number;
  /** Position within the partition; the next record has `offset + 1`. */
  readonly offset: number;
  readonly key: string;
  readonly value: Uint8Array;
  /** When the log appended it (ms since the epoch). */
  readonly timestamp: number;
}

/** Where to read a partition from: the offset of the next record wanted. */
export interface TopicPosition {
  readonly partition: number;
  readonly offset: number;
}

/** A partition's retained range: `start` is its oldest retained offset, `end` the next one to be written. */
export interface PartitionRange {
  readonly partition: number;
  readonly start: number;
  readonly end: number;
}

export interface ReaderOptions {
  /** Positions to start at, normally a stream's committed checkpoint. */
  readonly from: readonly TopicPosition[];
  /** Where a partition without a position starts: its oldest retained record or new ones only. */
  readonly otherwise: 'earliest' | 'latest';
  /**
   * Records the reader may hold ahead of the caller. It stops fetching when that many wait
   * unread, so a slow consumer pauses the reading instead of buffering without bound.
   */
  readonly buffer: number;
  /** Only these partitions (a stream replica's share); absent: every partition. */
  readonly partitions?: readonly number[];
}

export interface TopicReader {
  /**
   * Up to `max` records (offset order within a partition), as soon as at least one is
   * there; an empty array after `waitMs` without any.
   */
  next(max: number, waitMs: number): Promise<DataRecord[]>;
  close(): Promise<void>;
}

export interface ProducedRecord {
  readonly key: string;
  readonly value: Uint8Array | string;
}

/**
 * The data plane's topics (`sluice.data.*`, `sluice.dlq.*`): records keyed for their
 * partition, read from explicit positions. Unlike the EventBus, nothing here commits:
 * a stream keeps its own offsets (in the metadata store), so a restart resumes exactly where
 * its last committed batch ended. Embedded: a log in this process; in a cluster: Kafka.
 */
export interface DataTopics {
  /** 'memory' or 'kafka'. */
  readonly kind: string;
  /** Appends records; resolves once the log has them (on Kafka: acknowledged by all in-sync replicas). */
  produce(topic: string, records: readonly ProducedRecord[]): Promise<void>;
  /** Every partition of the topic with its retained range (created empty when missing). */
  partitions(topic: string): Promise<PartitionRange[]>;
  /** A reader over the topic's partitions (all, or those `partitions` names). */
  reader(topic: string, options: ReaderOptions): Promise<TopicReader>;
  close(): Promise<void>;
}
