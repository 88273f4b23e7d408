import type { StepContext } from 'sluice';
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
 * Loads the data vault from staging for the run's days. Insert-only: a key (or, for
 * satellites, a key + attribute hash) already present is not inserted again, so reruns
 * add nothing.
 */
export async function loadVault(ctx: StepContext<unknown>): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  const before = await vaultRows(ctx);
  for (const [name, expr, col] of HUBS) {
    await wh.command(`
      INSERT INTO vault.hub_${name} (${name}_hk, ${col}, load_ts, record_source)
      SELECT ${hk(expr)} AS k, any(${expr}), now64(3), ${SRC}
      FROM ${STG}${name === 'customer' ? ' AND customer_id IS NOT NULL' : ''}
      GROUP BY k HAVING k NOT IN (SELECT ${name}_hk FROM vault.hub_${name})`, params);
  }
  for (const [a, b] of [['invoice', 'product'], ['invoice', 'customer'], ['invoice', 'time'], ['invoice', 'country'], ['customer', 'country']]) {
    await wh.command(`
      INSERT INTO vault.link_${a}_${b} (link_hk, ${a}_hk, ${b}_hk, load_ts, record_source)
      SELECT ${hk(KEY[a], KEY[b])} AS k, any(${hk(KEY[a])}), any(${hk(KEY[b])}), now64(3), ${SRC}
      FROM ${STG}${needsCustomer(a, b)}
      GROUP BY k HAVING k NOT IN (SELECT link_hk FROM vault.link_${a}_${b})`, params);
  }
  await wh.command(`
    INSERT INTO vault.sat_invoice_line
    SELECT line_hk, hash_diff, invoice_hk, product_hk, customer_hk, time_hk, country_hk, day, invoice_no_raw,
           line_in_invoice, quantity, unit_price, line_total, is_return, now64(3), ${SRC}
    FROM (
      SELECT line_hk, ${hk('invoice_no')} AS invoice_hk, ${hk('stock_code')} AS product_hk,
             if(customer_id IS NULL, NULL, ${hk('assumeNotNull(customer_id)')}) AS customer_hk,
             ${hk('invoice_date')} AS time_hk, ${hk('country')} AS country_hk, day, invoice_no_raw, line_in_invoice,
             quantity, unit_price, line_total, is_return,
             ${hk('quantity', 'unit_price', 'ifNull(toString(customer_id), \'\')', 'country', 'stock_code', 'invoice_date')} AS hash_diff
      FROM ${STG}
    )
    WHERE (line_hk, hash_diff) NOT IN (SELECT line_hk, hash_diff FROM vault.sat_invoice_line)`, params);
  await wh.command(`
    INSERT INTO vault.sat_product
    SELECT ${hk('stock_code')} AS k, ${hk('d')} AS hash_diff, d, now64(3), ${SRC}
    FROM (SELECT stock_code, argMax(description, (day, line_no)) AS d FROM ${STG} GROUP BY stock_code)
    WHERE (k, hash_diff) NOT IN (SELECT product_hk, hash_diff FROM vault.sat_product)`, params);
  await wh.command(`
    INSERT INTO vault.sat_time
    SELECT ${hk('invoice_date')} AS k, k AS hash_diff, toDate(invoice_date), toYear(invoice_date), toMonth(invoice_date),
           toDayOfMonth(invoice_date), toDayOfWeek(invoice_date), toHour(invoice_date), now64(3), ${SRC}
    FROM (SELECT DISTINCT invoice_date FROM ${STG})
    WHERE (k, hash_diff) NOT IN (SELECT time_hk, hash_diff FROM vault.sat_time)`, params);
  const after = await vaultRows(ctx);
  ctx.materialize('vault', { rows: after - before, metadata: { days: days.length, total_rows: after } });
}

async function vaultRows(ctx: StepContext<unknown>): Promise<number> {
  const [r] = await ctx.warehouse.query<{ n: number }>(
    `SELECT sum(total_rows) AS n FROM system.tables WHERE database = 'vault'`,
  );
  return Number(r?.n ?? 0);
}
