import { createClient } from '@clickhouse/client';
import { ClickHouseWarehouse, type EngineSettings } from './clickhouse-warehouse.ts';

export interface ClickHouseServerOptions {
  /** e.g. http://user:password@clickhouse:8123 */
  readonly url: string;
  readonly requestTimeoutMs?: number;
  readonly settings?: EngineSettings;
}

/** A Warehouse on a ClickHouse server over HTTP. */
export function createClickHouseServerWarehouse(options: ClickHouseServerOptions): ClickHouseWarehouse {
  const client = createClient({ url: options.url, request_timeout: options.requestTimeoutMs ?? 300_000 });
  return new ClickHouseWarehouse({ kind: 'clickhouse', client, ownsClient: true, settings: options.settings });
}
