import type { StepContext } from 'sluice';

/**
 * The days a run works on: its partition, or every day the raw load of this run wrote.
 * Downstream layers rebuild exactly these days.
 */
export async function runDays(ctx: StepContext<unknown>): Promise<string[]> {
  if (ctx.partition) return [ctx.partition.key];
  const rows = await ctx.warehouse.query<{ day: string }>(
    'SELECT DISTINCT toString(day) AS day FROM raw.online_retail WHERE run_id = {run:String} ORDER BY day',
    { run: ctx.runId },
  );
  return rows.map((r) => r.day);
}

/** Data vault hash key of normalised business key parts. */
export const hk = (...parts: string[]): string =>
  `lower(hex(MD5(${parts.length === 1 ? `upper(trim(toString(${parts[0]})))` : `concatWithSeparator('|', ${parts.map((p) => `upper(trim(toString(${p})))`).join(', ')})`})))`;
