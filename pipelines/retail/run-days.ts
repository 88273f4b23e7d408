import type { RetailContext } from './retail-pipeline.ts';

/**
 * The days a run works on: its partition, or every day the raw load of this run wrote.
 * Downstream layers rebuild exactly these days.
 */
export async function runDays(ctx: RetailContext): Promise<string[]> {
  if (ctx.partition) return [ctx.partition.key];
  const rows = await ctx.warehouse.query<{ day: string }>(
    'SELECT DISTINCT toString(day) AS day FROM raw.online_retail WHERE run_id = {run:String} ORDER BY day',
    { run: ctx.runId },
  );
  return rows.map((r) => r.day);
}

/**
 * Data vault hash key of business key parts. Keys are trimmed but keep their case: the
 * source has stock codes such as 85049a and 85049A that are different products.
 */
export const hk = (...parts: string[]): string =>
  `lower(hex(MD5(concatWithSeparator('|', ${parts.map((p) => `trim(toString(${p}))`).join(', ')}))))`;
