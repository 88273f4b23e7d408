import type { AttemptEvent } from '../core/events.ts';
import type { AttemptFailure } from '../ports/metadata-store.ts';
import type { RetryDecision } from './retry-decision.ts';
import type { Logger } from './services.ts';

type FailedEvent = Extract<AttemptEvent, { type: 'attempt.failed' }>;

/** What an `attempt.failed` event says, with what an older worker leaves out filled in. */
export function failureOfEvent(error: FailedEvent['error'], decision: RetryDecision | null): AttemptFailure {
  return {
    code: error.code,
    name: error.name ?? 'Error',
    message: error.message,
    retryable: error.retryable,
    nonRetryableReason: error.nonRetryableReason ?? null,
    stack: error.stack ?? null,
    frame: error.frame ?? null,
    notRetried: decision?.retry === false ? decision.notRetried : null,
  };
}

/** An attempt whose worker went silent: Sluice's verdict, with nothing of the step's to show. */
export function lostFailure(why: string, decision: RetryDecision | null): AttemptFailure {
  return {
    code: 'lost', name: 'AttemptLost', message: why, retryable: true, nonRetryableReason: null, stack: null, frame: null,
    notRetried: decision?.retry === false ? decision.notRetried : null,
  };
}

/** One log line per failed attempt, with the stack: the server's log is where an operator looks. */
export function logFailure(logger: Logger, where: { run: string; pipeline: string; step: string; attempt: number }, f: AttemptFailure): void {
  logger.info(
    { ...where, error: { name: f.name, code: f.code, message: f.message, frame: f.frame, stack: f.stack }, notRetried: f.notRetried },
    `attempt ${where.attempt} of ${where.step} failed: ${f.message}`,
  );
}
