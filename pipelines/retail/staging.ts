import { replacePartitions } from 'sluice';
import type { RetailContext } from './retail-pipeline.ts';
import { dayBatches } from './day-batches.ts';
import { hk, runDays } from './run-days.ts';

/**
 * Persistent staging: rows without StockCode or InvoiceDate dropped, returns flagged,
 * invoice numbers without their `C`, customer ids as integers, and a stable key per line
 * (its position within its invoice). Written in batches of whole days that keep each
 * invoice together, so the numbering's in-memory sort does not grow with the run.
 */
export async function buildStaging(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const days = await runDays(ctx);
  const batches = await dayBatches(wh, days);
  const counts = await replacePartitions(wh, {
    table: 'staging.online_retail', column: 'day', days, writer: ctx,
    fill: async (tmp) => {
      for (const batch of batches) await wh.command(`
      INSERT INTO ${tmp}
      SELECT day, invoice_no, invoice_no_raw, stock_code, description, quantity, invoice_date, unit_price,
             customer_id, country, line_total, is_return, line_in_invoice,
             ${hk('invoice_no_raw', 'line_in_invoice')} AS line_hk, source_file, line_no
      FROM (
        SELECT day,
               if(startsWith(invoice_no, 'C'), substring(invoice_no, 2), invoice_no) AS invoice_no,
               invoice_no AS invoice_no_raw, stock_code, description, quantity,
               assumeNotNull(invoice_date) AS invoice_date, unit_price,
               toUInt32OrNull(splitByChar('.', customer_id)[1]) AS customer_id,
               country, line_total,
               toUInt8(startsWith(invoice_no, 'C') OR quantity < 0) AS is_return,
               toUInt32(row_number() OVER (PARTITION BY invoice_no ORDER BY source_file, line_no)) AS line_in_invoice,
               source_file, line_no
        FROM raw.online_retail
        WHERE day IN {days:Array(Date)} AND trim(stock_code) != '' AND invoice_date IS NOT NULL
      )
      SETTINGS max_partitions_per_insert_block = 0`, { days: batch });
    },
  });
  let rows = 0;
  for (const n of counts.values()) rows += n;
  ctx.materialize('staging.online_retail', { rows, metadata: { days: days.length, batches: batches.length } });
}
