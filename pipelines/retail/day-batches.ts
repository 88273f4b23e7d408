import type { Warehouse } from 'sluice';

/**
 * Rows per staging statement. Staging numbers an invoice's lines with a window function,
 * whose sort the engine keeps in memory whatever the spill settings; a batch this size
 * needs well under 100 MB.
 */
export const STAGING_BATCH_ROWS = 200_000;

/**
 * The run's days in batches of about `maxRows` raw rows, never splitting the days an
 * invoice spans (an invoice's lines are numbered together). A day bigger than `maxRows`
 * is a batch of its own.
 */
export async function dayBatches(wh: Warehouse, days: readonly string[], maxRows = STAGING_BATCH_ROWS): Promise<string[][]> {
  if (days.length === 0) return [];
  const params = { days: [...days] };
  const counts = await wh.query<{ d: string; n: number | string }>(
    'SELECT toString(day) AS d, count() AS n FROM raw.online_retail WHERE day IN {days:Array(Date)} GROUP BY day',
    params,
  );
  // The same invoice key and filter as staging's window; sets of days, not invoices, come back.
  const shared = await wh.query<{ ds: string[] }>(`
    SELECT ds FROM (
      SELECT arraySort(groupUniqArray(toString(day))) AS ds
      FROM raw.online_retail
      WHERE day IN {days:Array(Date)} AND trim(stock_code) != '' AND invoice_date IS NOT NULL
      GROUP BY if(startsWith(invoice_no, 'C'), substring(invoice_no, 2), invoice_no)
      HAVING length(ds) > 1
    ) GROUP BY ds`, params);

  const parent = new Map<string, string>();
  const root = (d: string): string => {
    let r = d;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(d, r);
    return r;
  };
  const rows = new Map<string, number>();
  for (const { d, n } of counts) {
    parent.set(d, d);
    rows.set(d, Number(n));
  }
  for (const { ds } of shared) for (const d of ds.slice(1)) parent.set(root(d), root(ds[0]));

  const groups = new Map<string, string[]>();
  for (const d of [...rows.keys()].sort()) {
    const r = root(d);
    groups.set(r, [...(groups.get(r) ?? []), d]);
  }
  return packGroups([...groups.values()].map((g) => ({ days: g, rows: g.reduce((n, d) => n + rows.get(d)!, 0) })), maxRows);
}

/** Groups of days, in order, packed into batches of about `maxRows` rows; a group is never split. */
export function packGroups(groups: readonly { days: readonly string[]; rows: number }[], maxRows: number): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let size = 0;
  for (const group of groups) {
    if (batch.length > 0 && size + group.rows > maxRows) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(...group.days);
    size += group.rows;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
