import { randomUUID } from 'node:crypto';
import type { Warehouse } from 'sluice';

/**
 * Runs `use` with a MergeTree table of this attempt's own, dropped when it ends. Named the
 * way replacePartitions names its staging tables (`…__w_<run>_<attempt>_<random>`), so a
 * lost attempt's leftover is dropped by a later attempt and two deliveries of one attempt
 * never share a table.
 */
export async function withScratchTable<T>(
  wh: Warehouse,
  writer: { readonly runId: string; readonly attempt: number },
  base: string,
  definition: string,
  use: (table: string) => Promise<T>,
): Promise<T> {
  const [db, name] = base.split('.');
  const prefix = `${name}__w_${writer.runId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}_`;
  const leftovers = await wh.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, {prefix:String})',
    { db, prefix },
  );
  for (const t of leftovers) {
    if (Number(t.name.slice(prefix.length).split('_')[0]) < writer.attempt) await wh.command(`DROP TABLE IF EXISTS ${db}.${t.name}`);
  }
  const table = `${db}.${prefix}${writer.attempt}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  await wh.command(`CREATE TABLE ${table} ${definition}`);
  try {
    return await use(table);
  } finally {
    await wh.command(`DROP TABLE IF EXISTS ${table}`);
  }
}
