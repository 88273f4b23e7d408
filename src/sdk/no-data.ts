import { NoData } from '../core/no-data.ts';

/**
 * Says the step's partition has no data: `throw noData('no rows for 2010-12-04 in orders.csv')`.
 * The step ends `no_data` instead of failing, its downstream steps are skipped, and the run
 * ends `no_data`, which a backfill counts apart from failures. Checks of the step's assets
 * are not evaluated. Throw a plain error instead when an empty partition is a fault.
 *
 * @example
 * import { noData } from 'sluice';
 *
 * async run(ctx) {
 *   const rows = await load(ctx);
 *   if (rows === 0) throw noData(`no rows for ${ctx.partition?.key} in ${ctx.params.source}`);
 * }
 */
export function noData(reason: string): NoData {
  return new NoData(reason);
}
