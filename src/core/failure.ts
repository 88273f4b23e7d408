import { fileURLToPath } from 'node:url';
import { InternalError, StepError, boundMessage, retryabilityOf, thrownName, type SluiceError } from './errors.ts';

/** A stack is kept whole enough to find the bug, not whole enough to fill a terminal. */
export const MAX_STACK_CHARS = 4000;

/**
 * Why an attempt failed, as it travels in `attempt.failed` and is stored with the attempt:
 * what a person needs to find the bug (class, message, stack, the pipeline's own line) and
 * what the coordinator needs to decide on a retry.
 */
export interface FailureDetail {
  readonly code: string;
  /** The class of what was thrown in user code (`TypeError`), else of Sluice's own error. */
  readonly name: string;
  readonly message: string;
  readonly retryable: boolean;
  /** When not retryable: why another attempt would fail the same way. */
  readonly nonRetryableReason: string | null;
  /** The thrown error's stack with its causes, bounded; null for Sluice's own verdicts (timeout, cancel). */
  readonly stack: string | null;
  /** The first frame outside Sluice and node_modules: the pipeline's `file:line:column`. */
  readonly frame: string | null;
}

// Frames in here are Sluice's; one in a pipeline, a test fixture or a user module is the user's.
const SLUICE_SRC = new URL('../', import.meta.url).href;
// `at fn (where:line:col)` or `at where:line:col`, where is a file URL or a path.
const FRAME = /^\s+at (?:.*? \()?((?:file:\/\/|\/|[A-Za-z]:[\\/])[^()]*):(\d+):(\d+)\)?$/;

/** The first stack frame in the user's code, as `path:line:column`. */
export function firstUserFrame(stack: string | null | undefined): string | null {
  for (const line of (stack ?? '').split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const [, where, row, col] = m;
    const url = where.startsWith('file://') ? where : null;
    if ((url ?? '').startsWith(SLUICE_SRC) || /[\\/]node_modules[\\/]/.test(where)) continue;
    if (!url && where.startsWith(fileURLToPath(SLUICE_SRC))) continue;
    return `${url ? fileURLToPath(url) : where}:${row}:${col}`;
  }
  return null;
}

/** The stack of `err` and of up to three causes, as Node prints them. */
function stackOf(err: unknown): string | null {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return null;
  const parts = [err.stack];
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++, cause = cause.cause) {
    parts.push(`Caused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`);
  }
  return boundMessage(parts.join('\n'), MAX_STACK_CHARS);
}

/**
 * The detail of a failed attempt. A StepError or an InternalError points at what was
 * thrown (its class, stack and line); Sluice's own verdicts (timeout, cancel, bad params)
 * have no stack worth showing.
 */
export function failureDetail(err: SluiceError): FailureDetail {
  const thrown = err instanceof StepError || err instanceof InternalError ? err.cause : undefined;
  const stack = thrown === undefined ? null : stackOf(thrown);
  const { reason } = err.retryable ? { reason: null } : retryabilityOf(err);
  return {
    code: err.code,
    name: thrown === undefined ? err.name : thrownName(thrown),
    message: err.message,
    retryable: err.retryable,
    nonRetryableReason: reason,
    stack,
    frame: err instanceof StepError ? firstUserFrame(stack) : null,
  };
}
