/**
 * What an author said about a failure with `retryable()` / `nonRetryable()`. A registered
 * symbol, so an error marked by a second copy of the SDK (another install of `sluice` in a
 * pipeline's own node_modules) still reads the same here.
 */
const MARK = Symbol.for('sluice.retry-mark');

export interface RetryMark {
  readonly retryable: boolean;
  /** Why another attempt would (not) help, in the author's words. */
  readonly reason: string | null;
}

/** Sets the mark on `err` and returns it; a frozen error gets a wrapper with the mark instead. */
export function markRetry<E extends object>(err: E, mark: RetryMark): E {
  if (Object.isExtensible(err)) {
    Object.defineProperty(err, MARK, { value: Object.freeze({ ...mark }), enumerable: false, configurable: true });
    return err;
  }
  const wrapper = new Error(err instanceof Error ? err.message : String(err), { cause: err });
  Object.defineProperty(wrapper, MARK, { value: Object.freeze({ ...mark }), enumerable: false });
  return wrapper as unknown as E;
}

/** The mark an author put on `err`, if any. */
export function retryMarkOf(err: unknown): RetryMark | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as { [MARK]?: RetryMark })[MARK];
}
