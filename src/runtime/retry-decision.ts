import type { RetryPolicy } from '../sdk/step.ts';

/** Whether a failed attempt gets another, and if not, why, as the run's summary shows it. */
export type RetryDecision = { readonly retry: true } | { readonly retry: false; readonly notRetried: string };

const attempts = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;

/**
 * A failure is retried while the policy has attempts left and the failure is retryable;
 * `notRetried` names the reason together with the policy, so a reader sees both at once:
 * `the params are invalid, …, retry policy allows 3 attempts`.
 */
export function decideRetry(policy: RetryPolicy, attempt: number, failure: { retryable: boolean; nonRetryableReason?: string | null }): RetryDecision {
  const allows = `retry policy allows ${attempts(policy.maxAttempts)}`;
  if (!failure.retryable) return { retry: false, notRetried: `${failure.nonRetryableReason ?? 'the error is not retryable'}, ${allows}` };
  if (attempt >= policy.maxAttempts) return { retry: false, notRetried: `attempt ${attempt} was the last, ${allows}` };
  return { retry: true };
}
