import { createClient } from '@clickhouse/client';
import { ClickHouseWarehouse } from './clickhouse-warehouse.ts';

export interface ClickHouseServerOptions {
  /** e.g. http://user:password@clickhouse:8123 */
  readonly url: string;
  readonly requestTimeoutMs?: number;
}

/** A Warehouse on a ClickHouse server over HTTP. */
export function createClickHouseServerWarehouse(options: ClickHouseServerOptions): ClickHouseWarehouse {
  const client = createClient({ url: options.url, request_timeout: options.requestTimeoutMs ?? 300_000 });
  return new ClickHouseWarehouse({ kind: 'clickhouse', client, ownsClient: true });
}
