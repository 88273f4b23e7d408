import { replacePartitions } from 'sluice';
import type { RetailContext } from './retail-pipeline.ts';
import { packGroups } from './day-batches.ts';
import { withScratchTable } from './scratch-table.ts';

/** The fact tables, with the return flag of their lines. */
const FACTS = [['marts.fact_sales', 0], ['marts.fact_sale_returns', 1]] as const;

/** What the facts read: the latest satellite versions of the staged lines and the hubs' business keys. */
export const FACT_TABLES: readonly { table: string; deps: readonly string[] }[] = FACTS.map(([table]) => ({
  table,
  deps: ['staging.online_retail', 'vault.sat_invoice_line', 'vault.hub_invoice', 'vault.hub_product', 'vault.hub_customer', 'vault.hub_time', 'vault.hub_country'],
}));

/** Fact rows per statement: a batch's lines, sort and hub lookups stay this small whatever the run. */
const FACT_BATCH_ROWS = 200_000;

const LINE_COLUMNS = `(
  line_hk String, invoice_hk String, product_hk String, customer_hk Nullable(String), time_hk String, country_hk String,
  day Date, quantity Int32, unit_price Float64, line_total Float64, is_return UInt8
) ENGINE = MergeTree ORDER BY (day, is_return)`;

/** Staged lines per latest-version statement. */
const KEY_RANGE_ROWS = 200_000;

const STAGED_KEYS = '(line_hk String) ENGINE = MergeTree ORDER BY line_hk';

/**
 * The latest satellite version of the staged lines whose line_hk falls in [lo, hi). Both
 * tables are sorted by line_hk, so a range reads only its share of them, and the IN sets
 * hold one range's keys. The group-by keeps only the latest version's hash_diff, which then
 * finds the row: (line_hk, hash_diff) decides every attribute, so any copy will do.
 */
const latestLines = (staged: string) => {
  const inRange = `line_hk >= {lo:String} AND line_hk < {hi:String}
      AND line_hk IN (SELECT line_hk FROM ${staged} WHERE line_hk >= {lo:String} AND line_hk < {hi:String})`;
  return `
  SELECT latest.line_hk, s.invoice_hk, s.product_hk, s.customer_hk, s.time_hk, s.country_hk,
         s.day, s.quantity, s.unit_price, s.line_total, s.is_return
  FROM (
    SELECT line_hk, argMax(hash_diff, load_ts) AS hash_diff FROM vault.sat_invoice_line
    WHERE ${inRange}
    GROUP BY line_hk
  ) AS latest
  ANY JOIN (SELECT * FROM vault.sat_invoice_line WHERE ${inRange}) AS s
    ON s.line_hk = latest.line_hk AND s.hash_diff = latest.hash_diff`;
};

/** `n` ranges of lowercase-hex keys, evenly split (line_hk is a hex MD5); the last ends above 'f'. */
function hexRanges(n: number): [string, string][] {
  const cut = (i: number) => Math.floor((i * 0x1_0000_0000) / n).toString(16).padStart(8, '0');
  return Array.from({ length: n }, (_, i) => [i === 0 ? '' : cut(i), i === n - 1 ? 'g' : cut(i + 1)]);
}

/** A hub's rows for the keys the batch's lines use, so the join's table is the batch's size, not the hub's. */
const hubFor = (lines: string, hub: string, key: string, column: string, lineKey = key) => `
  (SELECT ${key}, ${column} FROM vault.hub_${hub}
   WHERE ${key} IN (SELECT ${lineKey} FROM ${lines} WHERE day IN {batch:Array(Date)}))`;

const factBatch = (tmp: string, lines: string, isReturn: 0 | 1) => `
  INSERT INTO ${tmp}
  SELECT l.day, l.line_hk, i.invoice_no, t.invoice_date, l.product_hk, p.stock_code,
         assumeNotNull(l.customer_hk), c.customer_id, l.time_hk, l.country_hk, co.country, l.quantity, l.unit_price, l.line_total
  FROM (SELECT * FROM ${lines} WHERE day IN {batch:Array(Date)} AND is_return = ${isReturn} AND customer_hk IS NOT NULL) AS l
  JOIN ${hubFor(lines, 'invoice', 'invoice_hk', 'invoice_no')} AS i ON i.invoice_hk = l.invoice_hk
  JOIN ${hubFor(lines, 'product', 'product_hk', 'stock_code')} AS p ON p.product_hk = l.product_hk
  JOIN ${hubFor(lines, 'customer', 'customer_hk', 'customer_id', 'assumeNotNull(customer_hk)')} AS c ON c.customer_hk = assumeNotNull(l.customer_hk)
  JOIN ${hubFor(lines, 'time', 'time_hk', 'invoice_date')} AS t ON t.time_hk = l.time_hk
  JOIN ${hubFor(lines, 'country', 'country_hk', 'country')} AS co ON co.country_hk = l.country_hk
  ORDER BY day
  SETTINGS max_partitions_per_insert_block = 0`;

/**
 * Rebuilds the sales (non-return lines with a customer) and returns (return lines with a
 * customer) facts of the run's days from the vault; returns each table's rows. Every
 * statement handles a bounded share of the run: the latest lines are gathered by ranges of
 * line_hk, then the facts are written in batches of whole days, ordered by day so that an
 * insert block writes a few partitions, not a tiny part into each day of the run.
 */
export async function buildFacts(ctx: RetailContext, days: string[]): Promise<Map<string, number>> {
  const wh = ctx.warehouse;
  return withScratchTable(wh, ctx, 'marts.latest_lines', LINE_COLUMNS, async (lines) => {
    await withScratchTable(wh, ctx, 'marts.staged_lines', STAGED_KEYS, async (staged) => {
      await wh.command(`INSERT INTO ${staged} SELECT line_hk FROM staging.online_retail WHERE day IN {days:Array(Date)}`, { days });
      const [{ n }] = await wh.query<{ n: number | string }>(`SELECT count() AS n FROM ${staged}`);
      for (const [lo, hi] of hexRanges(Math.max(1, Math.ceil(Number(n) / KEY_RANGE_ROWS)))) {
        await wh.command(`INSERT INTO ${lines} ${latestLines(staged)}`, { lo, hi });
      }
    });
    const perDay = await wh.query<{ d: string; n: number | string }>(`SELECT toString(day) AS d, count() AS n FROM ${lines} GROUP BY day ORDER BY day`);
    const batches = packGroups(perDay.map((r) => ({ days: [r.d], rows: Number(r.n) })), FACT_BATCH_ROWS);
    const facts = new Map<string, number>();
    for (const [table, isReturn] of FACTS) {
      const counts = await replacePartitions(wh, {
        table, column: 'day', days, writer: ctx,
        fill: async (tmp) => {
          for (const batch of batches) await wh.command(factBatch(tmp, lines, isReturn), { batch });
        },
      });
      facts.set(table, [...counts.values()].reduce((a, b) => a + b, 0));
    }
    return facts;
  });
}
