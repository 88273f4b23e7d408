import type { Readable } from 'node:stream';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly modifiedAt: string;
}

/** Files: raw downloads, processed outputs, model artifacts. Keys use `/` separators. */
export interface ObjectStore {
  put(key: string, body: Buffer | string | Readable): Promise<ObjectInfo>;
  get(key: string): Promise<Buffer>;
  /** Streams the object; never loads it whole. */
  getStream(key: string): Promise<Readable>;
  /** Metadata, or undefined when the key does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
