import type { RetailContext } from './retail-pipeline.ts';
import { buildFacts } from './facts.ts';
import { runDays } from './run-days.ts';

/**
 * Joins `alias` to the distinct values of `column` among the run's lines in `source`: an
 * IN (SELECT …) filter whose set spills. The engine holds an IN set in memory whole, and
 * these grow with the run.
 */
const usedBy = (alias: string, key: string, column: string, source: string, extra = '') => `
  JOIN (SELECT ${column} AS used FROM ${source} WHERE day IN {days:Array(Date)}${extra} GROUP BY used) AS u ON u.used = ${alias}.${key}`;

const SAT = 'vault.sat_invoice_line';

/**
 * One dimension: the rows of `from` are its rows for the run's lines (one per key they
 * use), written with `select`; the vault tables it reads are its lineage.
 */
interface Dimension {
  readonly table: string;
  readonly select: string;
  readonly from: string;
  readonly deps: readonly string[];
}

export const DIMENSIONS: readonly Dimension[] = [
  {
    table: 'marts.dim_product',
    select: 'h.product_hk, h.stock_code, s.description, now64(3)',
    from: `vault.hub_product AS h
    LEFT JOIN (SELECT product_hk, argMax(description, load_ts) AS description FROM vault.sat_product GROUP BY product_hk) AS s
      ON s.product_hk = h.product_hk
    ${usedBy('h', 'product_hk', 'product_hk', SAT)}`,
    deps: ['vault.hub_product', 'vault.sat_product', SAT],
  },
  {
    table: 'marts.dim_customer',
    select: 'h.customer_hk, h.customer_id, c.country, now64(3)',
    from: `vault.hub_customer AS h
    LEFT JOIN (
      SELECT l.customer_hk, argMax(hc.country, l.load_ts) AS country
      FROM vault.link_customer_country AS l JOIN vault.hub_country AS hc ON hc.country_hk = l.country_hk
      GROUP BY l.customer_hk
    ) AS c ON c.customer_hk = h.customer_hk
    ${usedBy('h', 'customer_hk', 'assumeNotNull(customer_hk)', SAT, ' AND customer_hk IS NOT NULL')}`,
    deps: ['vault.hub_customer', 'vault.link_customer_country', 'vault.hub_country', SAT],
  },
  {
    table: 'marts.dim_time',
    select: 'h.time_hk, h.invoice_date, s.day, s.year, s.month, s.day_of_month, s.day_of_week, s.hour, now64(3)',
    from: `vault.hub_time AS h JOIN vault.sat_time AS s ON s.time_hk = h.time_hk
    ${usedBy('h', 'time_hk', 'time_hk', SAT)}`,
    deps: ['vault.hub_time', 'vault.sat_time', SAT],
  },
  {
    table: 'marts.dim_country',
    select: 'h.country_hk, h.country, now64(3)',
    from: `vault.hub_country AS h
    ${usedBy('h', 'country_hk', 'country_hk', SAT)}`,
    deps: ['vault.hub_country', SAT],
  },
];

/**
 * Star schema for analysis: dimensions from hubs and satellites (latest version wins),
 * facts per day rebuilt from the vault: sales are non-return lines with a customer,
 * returns are return lines with a customer. Each table is materialized with its rows for
 * the run's days: the dimension rows its lines use, the fact rows of its days.
 */
export async function buildMarts(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  for (const d of DIMENSIONS) {
    await wh.command(`INSERT INTO ${d.table} SELECT ${d.select} FROM ${d.from}`, params);
    const [{ n }] = await wh.query<{ n: number | string }>(`SELECT count() AS n FROM ${d.from}`, params);
    ctx.materialize(d.table, { rows: Number(n), metadata: { days: days.length } });
  }
  const facts = await buildFacts(ctx, days);
  for (const [table, rows] of facts) ctx.materialize(table, { rows, metadata: { days: days.length } });
}
