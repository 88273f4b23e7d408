import type { RetailContext } from './retail-pipeline.ts';
import { hk, runDays } from './run-days.ts';

const SRC = `'retail'`;
const STG = `staging.online_retail WHERE day IN {days:Array(Date)}`;

// [hub, business key expression over staging, column]
const HUBS: readonly [string, string, string][] = [
  ['invoice', 'invoice_no', 'invoice_no'],
  ['product', 'stock_code', 'stock_code'],
  ['customer', 'assumeNotNull(customer_id)', 'customer_id'],
  ['time', 'invoice_date', 'invoice_date'],
  ['country', 'country', 'country'],
];

const KEY: Record<string, string> = Object.fromEntries(HUBS.map(([name, expr]) => [name, expr]));
const needsCustomer = (a: string, b: string) => (a === 'customer' || b === 'customer' ? ' AND customer_id IS NOT NULL' : '');

/**
 * Keeps the rows of `n` whose key is not yet stored in `table`. A left join on a marker
 * rather than NOT IN (SELECT …): the engine holds an IN set in memory whole, and this one
 * would grow with the vault, while the join's stored side spills to disk (grace hash).
 */
function absentFrom(table: string, keys: readonly [fresh: string, stored: string][]): string {
  const stored = keys.map(([, col]) => col).join(', ');
  const on = keys.map(([fresh, col]) => `v.${col} = n.${fresh}`).join(' AND ');
  return `LEFT JOIN (SELECT ${stored}, 1 AS present FROM ${table}) AS v ON ${on} WHERE ifNull(v.present, 0) = 0`;
}

const LINE_COLUMNS = ['line_hk', 'hash_diff', 'invoice_hk', 'product_hk', 'customer_hk', 'time_hk', 'country_hk', 'day',
  'invoice_no_raw', 'line_in_invoice', 'quantity', 'unit_price', 'line_total', 'is_return'];

/**
 * Loads the data vault from staging for the run's days. Insert-only: a key (or, for
 * satellites, a key + attribute hash) already present is not inserted again, so reruns
 * add nothing.
 */
export async function loadVault(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  const before = await vaultRows(ctx);
  for (const [name, expr, col] of HUBS) {
    await wh.command(`
      INSERT INTO vault.hub_${name} (${name}_hk, ${col}, load_ts, record_source)
      SELECT n.k, n.bk, now64(3), ${SRC}
      FROM (
        SELECT ${hk(expr)} AS k, any(${expr}) AS bk
        FROM ${STG}${name === 'customer' ? ' AND customer_id IS NOT NULL' : ''}
        GROUP BY k
      ) AS n
      ${absentFrom(`vault.hub_${name}`, [['k', `${name}_hk`]])}`, params);
  }
  for (const [a, b] of [['invoice', 'product'], ['invoice', 'customer'], ['invoice', 'time'], ['invoice', 'country'], ['customer', 'country']]) {
    await wh.command(`
      INSERT INTO vault.link_${a}_${b} (link_hk, ${a}_hk, ${b}_hk, load_ts, record_source)
      SELECT n.k, n.a_key, n.b_key, now64(3), ${SRC}
      FROM (
        SELECT ${hk(KEY[a], KEY[b])} AS k, any(${hk(KEY[a])}) AS a_key, any(${hk(KEY[b])}) AS b_key
        FROM ${STG}${needsCustomer(a, b)}
        GROUP BY k
      ) AS n
      ${absentFrom(`vault.link_${a}_${b}`, [['k', 'link_hk']])}`, params);
  }
  await wh.command(`
    INSERT INTO vault.sat_invoice_line
    SELECT ${LINE_COLUMNS.map((c) => `n.${c}`).join(', ')}, now64(3), ${SRC}
    FROM (
      SELECT line_hk, ${hk('invoice_no')} AS invoice_hk, ${hk('stock_code')} AS product_hk,
             if(customer_id IS NULL, NULL, ${hk('assumeNotNull(customer_id)')}) AS customer_hk,
             ${hk('invoice_date')} AS time_hk, ${hk('country')} AS country_hk, day, invoice_no_raw, line_in_invoice,
             quantity, unit_price, line_total, is_return,
             ${hk('quantity', 'unit_price', 'ifNull(toString(customer_id), \'\')', 'country', 'stock_code', 'invoice_date')} AS hash_diff
      FROM ${STG}
    ) AS n
    ${absentFrom('vault.sat_invoice_line', [['line_hk', 'line_hk'], ['hash_diff', 'hash_diff']])}`, params);
  await wh.command(`
    INSERT INTO vault.sat_product
    SELECT n.k, n.hash_diff, n.d, now64(3), ${SRC}
    FROM (
      SELECT ${hk('stock_code')} AS k, ${hk('d')} AS hash_diff, d
      FROM (SELECT stock_code, argMax(description, (day, line_no)) AS d FROM ${STG} GROUP BY stock_code)
    ) AS n
    ${absentFrom('vault.sat_product', [['k', 'product_hk'], ['hash_diff', 'hash_diff']])}`, params);
  // GROUP BY rather than DISTINCT: a DISTINCT set does not spill.
  await wh.command(`
    INSERT INTO vault.sat_time
    SELECT n.k, n.k, toDate(n.t), toYear(n.t), toMonth(n.t), toDayOfMonth(n.t), toDayOfWeek(n.t), toHour(n.t), now64(3), ${SRC}
    FROM (SELECT ${hk('invoice_date')} AS k, invoice_date AS t FROM ${STG} GROUP BY invoice_date) AS n
    ${absentFrom('vault.sat_time', [['k', 'time_hk'], ['k', 'hash_diff']])}`, params);
  const after = await vaultRows(ctx);
  ctx.materialize('vault', { rows: after - before, metadata: { days: days.length, total_rows: after } });
}

async function vaultRows(ctx: RetailContext): Promise<number> {
  const [r] = await ctx.warehouse.query<{ n: number }>(
    `SELECT sum(total_rows) AS n FROM system.tables WHERE database = 'vault'`,
  );
  return Number(r?.n ?? 0);
}
