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
 * Star schema for analysis: dimensions from hubs and satellites (latest version wins),
 * facts per day rebuilt from the vault: sales are non-return lines with a customer,
 * returns are return lines with a customer.
 */
export async function buildMarts(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const params = { days };
  await wh.command(`
    INSERT INTO marts.dim_product
    SELECT h.product_hk, h.stock_code, s.description, now64(3)
    FROM vault.hub_product AS h
    LEFT JOIN (SELECT product_hk, argMax(description, load_ts) AS description FROM vault.sat_product GROUP BY product_hk) AS s
      ON s.product_hk = h.product_hk
    ${usedBy('h', 'product_hk', 'product_hk', SAT)}`, params);
  await wh.command(`
    INSERT INTO marts.dim_customer
    SELECT h.customer_hk, h.customer_id, c.country, now64(3)
    FROM vault.hub_customer AS h
    LEFT JOIN (
      SELECT l.customer_hk, argMax(hc.country, l.load_ts) AS country
      FROM vault.link_customer_country AS l JOIN vault.hub_country AS hc ON hc.country_hk = l.country_hk
      GROUP BY l.customer_hk
    ) AS c ON c.customer_hk = h.customer_hk
    ${usedBy('h', 'customer_hk', 'assumeNotNull(customer_hk)', SAT, ' AND customer_hk IS NOT NULL')}`, params);
  await wh.command(`
    INSERT INTO marts.dim_time
    SELECT h.time_hk, h.invoice_date, s.day, s.year, s.month, s.day_of_month, s.day_of_week, s.hour, now64(3)
    FROM vault.hub_time AS h JOIN vault.sat_time AS s ON s.time_hk = h.time_hk
    ${usedBy('h', 'time_hk', 'time_hk', SAT)}`, params);
  await wh.command(`
    INSERT INTO marts.dim_country
    SELECT h.country_hk, h.country, now64(3) FROM vault.hub_country AS h
    ${usedBy('h', 'country_hk', 'country_hk', SAT)}`, params);

  const facts = await buildFacts(ctx, days);
  ctx.materialize('marts', { rows: facts, metadata: { days: days.length } });
}
