/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * retries of many attempts spread out without ever retrying immediately.
 */
export function backoffDelay(policy: { backoffMs: number; maxBackoffMs: number }, attempt: number, random = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
