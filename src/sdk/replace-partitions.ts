import { randomUUID } from 'node:crypto';
import type { Warehouse } from '../ports/warehouse.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;

export interface ReplacePartitionsOptions {
  /** `database.table`, partitioned by a Date column. */
  readonly table: string;
  /** The Date partition column. */
  readonly column: string;
  /** Dates (YYYY-MM-DD) whose content the new data replaces; days absent from it end empty. */
  readonly days: readonly string[];
  /**
   * Who writes (a step context fits): every call fills a staging table of its own, so a
   * late write of a lost attempt, or a second delivery of the same attempt, never lands in
   * another's rows; each swaps in complete data. Tables left by earlier attempts of the run
   * (their writers are fenced off) are dropped first; later attempts' are never touched.
   */
  readonly writer: { readonly runId: string; readonly attempt: number };
  /** Writes the new rows into the given staging table (same structure as `table`). */
  fill(stagingTable: string): Promise<void>;
}

/**
 * Idempotent, atomic-per-partition rewrite: new rows go into a staging copy of the table,
 * then each day's partition is swapped in with `REPLACE PARTITION` (or dropped when the
 * new data has none). Rerunning the same work gives the same table: no duplicates, ever.
 * Returns the row count per day written.
 *
 * @example
 * await replacePartitions(ctx.warehouse, {
 *   table: 'marts.fact_sales', column: 'day', days: ['2010-12-01'], writer: ctx,
 *   fill: (tmp) => ctx.warehouse.command(`INSERT INTO ${tmp} SELECT … WHERE day = '2010-12-01'`),
 * });
 */
export async function replacePartitions(wh: Warehouse, options: ReplacePartitionsOptions): Promise<Map<string, number>> {
  const { table, column, days } = options;
  if (!IDENT.test(table)) throw new TypeError(`replacePartitions: bad table name ${table}`);
  for (const d of days) if (!DAY.test(d)) throw new TypeError(`replacePartitions: bad day ${d}`);
  const prefix = `${table}__w_${options.writer.runId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}_`;
  const tmp = `${prefix}${options.writer.attempt}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const [db, name] = prefix.split('.');
  const leftovers = await wh.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, {name:String})',
    { db, name },
  );
  for (const t of leftovers) {
    const attempt = Number(t.name.slice(name.length).split('_')[0]);
    if (attempt < options.writer.attempt) await wh.command(`DROP TABLE IF EXISTS ${db}.${t.name}`);
  }
  await wh.command(`CREATE TABLE ${tmp} AS ${table}`);
  try {
    await options.fill(tmp);
    const counts = new Map<string, number>();
    const rows = await wh.query<{ d: string; n: number }>(`SELECT toString(${column}) AS d, count() AS n FROM ${tmp} GROUP BY d`);
    for (const r of rows) counts.set(r.d, Number(r.n));
    const all = new Set([...days, ...counts.keys()]);
    for (const d of [...all].sort()) {
      if (counts.has(d)) await wh.command(`ALTER TABLE ${table} REPLACE PARTITION '${d}' FROM ${tmp}`);
      else await wh.command(`ALTER TABLE ${table} DROP PARTITION '${d}'`);
    }
    return counts;
  } finally {
    await wh.command(`DROP TABLE IF EXISTS ${tmp}`);
  }
}
