import { replacePartitions, type StepContext } from 'sluice';
import { runDays } from './run-days.ts';

/**
 * Joins `alias` to the distinct values of `column` among the run's lines in `source`: an
 * IN (SELECT …) filter whose set spills. The engine holds an IN set in memory whole, and
 * these grow with the run.
 */
const usedBy = (alias: string, key: string, column: string, source: string, extra = '') => `
  JOIN (SELECT ${column} AS used FROM ${source} WHERE day IN {days:Array(Date)}${extra} GROUP BY used) AS u ON u.used = ${alias}.${key}`;

/**
 * The latest satellite version of each invoice line staged on the run's days. The group-by
 * keeps only the latest version's hash_diff, which then finds the row: argMax over the whole
 * attribute tuple keeps state the engine spills in many small files, whose merge outgrew
 * the bound. (line_hk, hash_diff) decides every attribute, so any copy of the row will do.
 */
const LINES = `
  SELECT latest.line_hk AS line_hk,
         tuple(s.invoice_hk, s.product_hk, s.customer_hk, s.time_hk, s.country_hk, s.day, s.quantity, s.unit_price, s.line_total, s.is_return) AS v
  FROM (
    SELECT s.line_hk AS line_hk, argMax(s.hash_diff, s.load_ts) AS hash_diff
    FROM vault.sat_invoice_line AS s
    ${usedBy('s', 'line_hk', 'line_hk', 'staging.online_retail')}
    GROUP BY s.line_hk
  ) AS latest
  ANY JOIN vault.sat_invoice_line AS s ON s.line_hk = latest.line_hk AND s.hash_diff = latest.hash_diff`;

const SAT = 'vault.sat_invoice_line';

/**
 * Star schema for analysis: dimensions from hubs and satellites (latest version wins),
 * facts per day rebuilt from the vault: sales are non-return lines with a customer,
 * returns are return lines with a customer.
 */
export async function buildMarts(ctx: StepContext<unknown>): Promise<void> {
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

  let facts = 0;
  // ORDER BY day: the joins return lines in hash order, and an insert block spanning every
  // day of the run would write a tiny part into each of them.
  for (const [table, isReturn] of [['fact_sales', 0], ['fact_sale_returns', 1]] as const) {
    const counts = await replacePartitions(wh, {
      table: `marts.${table}`, column: 'day', days, writer: ctx,
      fill: (tmp) => wh.command(`
        INSERT INTO ${tmp}
        SELECT l.v.6 AS day, l.line_hk, i.invoice_no, t.invoice_date, l.v.2, p.stock_code,
               assumeNotNull(l.v.3), c.customer_id, l.v.4, l.v.5, co.country, l.v.7, l.v.8, l.v.9
        FROM (${LINES}) AS l
        JOIN vault.hub_invoice AS i ON i.invoice_hk = l.v.1
        JOIN vault.hub_product AS p ON p.product_hk = l.v.2
        JOIN vault.hub_customer AS c ON c.customer_hk = assumeNotNull(l.v.3)
        JOIN vault.hub_time AS t ON t.time_hk = l.v.4
        JOIN vault.hub_country AS co ON co.country_hk = l.v.5
        WHERE l.v.10 = ${isReturn} AND l.v.3 IS NOT NULL
        ORDER BY day
        SETTINGS max_partitions_per_insert_block = 0`, params),
    });
    for (const n of counts.values()) facts += n;
  }
  ctx.materialize('marts', { rows: facts, metadata: { days: days.length } });
}
