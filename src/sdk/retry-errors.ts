import { markRetry } from '../core/retry-marks.ts';

const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(typeof value === 'string' ? value : String(value)));

/**
 * Marks a failure that another attempt cannot fix, so the step fails at once whatever its
 * retry policy allows, and the run's summary says why: `not retried: <reason>, retry
 * policy allows 3 attempts`. Pass an error (it keeps its class and stack) or a message.
 *
 * @example
 * import { nonRetryable, step } from 'sluice';
 *
 * step({
 *   name: 'load',
 *   retry: { maxAttempts: 3 },
 *   async run(ctx) {
 *     const header = await readHeader(ctx.params.source);
 *     if (!header.includes('InvoiceNo')) {
 *       throw nonRetryable(`${ctx.params.source} is not an Online Retail export`, 'the file will not change between attempts');
 *     }
 *   },
 * });
 */
export function nonRetryable<E extends Error>(error: E, reason?: string): E;
export function nonRetryable(message: string, reason?: string): Error;
export function nonRetryable(error: unknown, reason?: string): Error {
  return markRetry(asError(error), { retryable: false, reason: reason ?? null });
}

/**
 * Marks a failure that another attempt may cure, so the step is retried per its policy even
 * when the error would otherwise not be (a warehouse error Sluice deems permanent, a
 * validation error of data that is still arriving). Pass an error or a message.
 *
 * @example
 * import { retryable, step } from 'sluice';
 *
 * step({
 *   name: 'wait-for-export',
 *   retry: { maxAttempts: 5, backoffMs: 60_000 },
 *   async run(ctx) {
 *     const [r] = await ctx.warehouse.query<{ n: number }>('SELECT count() AS n FROM raw.exports WHERE day = {d:Date}', { d: ctx.partition!.key });
 *     if (r.n === 0) throw retryable(`no export for ${ctx.partition!.key} yet`);
 *   },
 * });
 */
export function retryable<E extends Error>(error: E): E;
export function retryable(message: string): Error;
export function retryable(error: unknown): Error {
  return markRetry(asError(error), { retryable: true, reason: null });
}
