import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ClickHouseWarehouse, type EngineSettings } from './clickhouse-warehouse.ts';

export interface ClickHouseServerOptions {
  /** e.g. http://user:password@clickhouse:8123 */
  readonly url: string;
  readonly requestTimeoutMs?: number;
  readonly settings?: EngineSettings;
}

/** A Warehouse on a ClickHouse server over HTTP. */
export function createClickHouseServerWarehouse(options: ClickHouseServerOptions): ClickHouseWarehouse {
  // The client's own logger prints every failed statement with a stack to stderr; failures
  // already reach the caller as SluiceErrors, and refusals (the query endpoint, migrate's
  // probes) are expected.
  const client = createClient({ url: options.url, request_timeout: options.requestTimeoutMs ?? 300_000, log: { level: ClickHouseLogLevel.OFF } });
  return new ClickHouseWarehouse({ kind: 'clickhouse', client, ownsClient: true, settings: options.settings });
}
