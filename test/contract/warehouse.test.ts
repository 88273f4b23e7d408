import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { createClickHouseServerWarehouse } from '../../src/adapters/clickhouse/clickhouse-server-warehouse.ts';
import { service } from '../helpers/services.ts';
import { warehouseContract } from './warehouse.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-warehouse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

warehouseContract('chDB', async () => createChdbWarehouse({ path: join(dir, 'chdb') }));

// Off CI, a machine without the server skips these (service() returns undefined).
warehouseContract('ClickHouse server', async () => {
  const url = await service('clickhouse');
  return url ? createClickHouseServerWarehouse({ url }) : undefined;
});
