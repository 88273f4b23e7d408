/**
 * Registered, so a NoData thrown by a second copy of the SDK (another install of `sluice`
 * in a pipeline's own node_modules) still reads as one here.
 */
const BRAND = Symbol.for('sluice.no-data');

/**
 * What a step throws to say its partition has nothing to process (a closed shop's day, an
 * empty export): not a failure. The step ends `no_data`, the steps after it are skipped and
 * the run ends `no_data` (docs/decisions/0014-no-data-outcome.md). Never retried.
 */
export class NoData extends Error {
  override name = 'NoData';
  constructor(reason: string) {
    super(reason);
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

/** Whether `err` is a NoData, from this copy of Sluice or another. */
export function isNoData(err: unknown): err is NoData {
  return typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true;
}
