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
 * One vault table: `fresh` selects, from the run's staged lines, one row per key (per key
 * and attribute hash for a satellite) that the table must hold; the load inserts those
 * whose key is absent, and `SELECT count()` of `fresh` is the table's rows for the run.
 */
interface VaultTable {
  readonly table: string;
  readonly columns: string;
  readonly select: string;
  readonly fresh: string;
  readonly keys: readonly [fresh: string, stored: string][];
}

const hubTable = ([name, expr, col]: readonly [string, string, string]): VaultTable => ({
  table: `vault.hub_${name}`,
  columns: ` (${name}_hk, ${col}, load_ts, record_source)`,
  select: `n.k, n.bk, now64(3), ${SRC}`,
  fresh: `SELECT ${hk(expr)} AS k, any(${expr}) AS bk
        FROM ${STG}${name === 'customer' ? ' AND customer_id IS NOT NULL' : ''}
        GROUP BY k`,
  keys: [['k', `${name}_hk`]],
});

const LINKS: readonly [string, string][] = [['invoice', 'product'], ['invoice', 'customer'], ['invoice', 'time'], ['invoice', 'country'], ['customer', 'country']];

const linkTable = ([a, b]: readonly [string, string]): VaultTable => ({
  table: `vault.link_${a}_${b}`,
  columns: ` (link_hk, ${a}_hk, ${b}_hk, load_ts, record_source)`,
  select: `n.k, n.a_key, n.b_key, now64(3), ${SRC}`,
  fresh: `SELECT ${hk(KEY[a], KEY[b])} AS k, any(${hk(KEY[a])}) AS a_key, any(${hk(KEY[b])}) AS b_key
        FROM ${STG}${needsCustomer(a, b)}
        GROUP BY k`,
  keys: [['k', 'link_hk']],
});

const SATELLITES: readonly VaultTable[] = [
  {
    table: 'vault.sat_invoice_line',
    columns: '',
    select: `${LINE_COLUMNS.map((c) => `n.${c}`).join(', ')}, now64(3), ${SRC}`,
    fresh: `SELECT line_hk, ${hk('invoice_no')} AS invoice_hk, ${hk('stock_code')} AS product_hk,
             if(customer_id IS NULL, NULL, ${hk('assumeNotNull(customer_id)')}) AS customer_hk,
             ${hk('invoice_date')} AS time_hk, ${hk('country')} AS country_hk, day, invoice_no_raw, line_in_invoice,
             quantity, unit_price, line_total, is_return,
             ${hk('quantity', 'unit_price', 'ifNull(toString(customer_id), \'\')', 'country', 'stock_code', 'invoice_date')} AS hash_diff
      FROM ${STG}`,
    keys: [['line_hk', 'line_hk'], ['hash_diff', 'hash_diff']],
  },
  {
    table: 'vault.sat_product',
    columns: '',
    select: `n.k, n.hash_diff, n.d, now64(3), ${SRC}`,
    fresh: `SELECT ${hk('stock_code')} AS k, ${hk('d')} AS hash_diff, d
      FROM (SELECT stock_code, argMax(description, (day, line_no)) AS d FROM ${STG} GROUP BY stock_code)`,
    keys: [['k', 'product_hk'], ['hash_diff', 'hash_diff']],
  },
  {
    // GROUP BY rather than DISTINCT: a DISTINCT set does not spill.
    table: 'vault.sat_time',
    columns: '',
    select: `n.k, n.k, toDate(n.t), toYear(n.t), toMonth(n.t), toDayOfMonth(n.t), toDayOfWeek(n.t), toHour(n.t), now64(3), ${SRC}`,
    fresh: `SELECT ${hk('invoice_date')} AS k, invoice_date AS t FROM ${STG} GROUP BY invoice_date`,
    keys: [['k', 'time_hk'], ['k', 'hash_diff']],
  },
];

/** Every vault table in load order: hubs, links, satellites. */
export const VAULT_TABLES: readonly VaultTable[] = [...HUBS.map(hubTable), ...LINKS.map(linkTable), ...SATELLITES];

/**
 * Loads the data vault from staging for the run's days. Insert-only: a key (or, for
 * satellites, a key + attribute hash) already present is not inserted again, so reruns
 * add nothing. Each table is materialized with its rows for the run's days (what the
 * days' lines use) and, as `inserted`, how many of them this run added.
 */
export async function loadVault(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  const before = await storedRows(ctx);
  for (const t of VAULT_TABLES) {
    await wh.command(`
      INSERT INTO ${t.table}${t.columns}
      SELECT ${t.select}
      FROM (${t.fresh}) AS n
      ${absentFrom(t.table, t.keys)}`, params);
  }
  const after = await storedRows(ctx);
  for (const t of VAULT_TABLES) {
    const [{ n }] = await wh.query<{ n: number | string }>(`SELECT count() AS n FROM (${t.fresh})`, params);
    const inserted = (after.get(t.table) ?? 0) - (before.get(t.table) ?? 0);
    ctx.materialize(t.table, { rows: Number(n), metadata: { days: days.length, inserted } });
  }
}

/** Rows stored per vault table, as the engine counts them (no scan). */
async function storedRows(ctx: RetailContext): Promise<Map<string, number>> {
  const rows = await ctx.warehouse.query<{ t: string; n: number | string | null }>(
    `SELECT concat(database, '.', name) AS t, total_rows AS n FROM system.tables WHERE database = 'vault'`,
  );
  return new Map(rows.map((r) => [r.t, Number(r.n ?? 0)]));
}
