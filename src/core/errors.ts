import { retryMarkOf } from './retry-marks.ts';

/** How long a message may get before it is cut: a line of a terminal or a log, not a file. */
export const MAX_MESSAGE_CHARS = 500;

/**
 * Cuts text longer than `max` characters and says how long it was, so a 5 MB header line
 * quoted in an error stays a readable error in every place it travels (events, store, API, CLI).
 */
export function boundMessage(text: string, max = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: half an emoji is not valid UTF-16 for JSON consumers.
  const cut = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return `${text.slice(0, cut)}… (${text.length} chars)`;
}

/**
 * Every code an error may carry: stable, machine-readable, the same in events, the store,
 * the API's problem documents and the CLI. HTTP statuses are the server's business
 * (src/server/problem.ts), not the errors'.
 */
export const ERROR_CODES = [
  // The caller's input or standing.
  'validation', 'not_found', 'conflict', 'too_large', 'unauthorized', 'forbidden',
  'method_not_allowed', 'unsupported_media_type', 'too_many_requests',
  // Runs and their steps.
  'step_failed', 'timeout', 'cancelled',
  // The query endpoint.
  'query_refused', 'sql_error', 'query_limit',
  // What runs read and write.
  'source_forbidden', 'source_unavailable', 'source_timeout', 'source_too_large', 'warehouse', 'object_store_failed',
  // Sluice itself: a capability not configured, a part not reachable, a bug.
  'not_supported', 'unavailable', 'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** A code from outside the process (the wire, a problem document) as ours; anything else is internal. */
export function errorCodeOf(value: unknown): ErrorCode {
  return typeof value === 'string' && CODES.has(value) ? (value as ErrorCode) : 'internal';
}

/**
 * The error hierarchy every layer speaks. `code` is stable and machine-readable,
 * `retryable` tells the coordinator whether another attempt can help. Messages are bounded
 * (`boundMessage`) here, once, so no layer has to remember to.
 */
export class SluiceError extends Error {
  override name = 'SluiceError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** When not retryable: why another attempt would fail the same way, for the run's summary. */
  readonly nonRetryableReason: string | null;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean; nonRetryableReason?: string } = {}) {
    super(boundMessage(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.nonRetryableReason = this.retryable ? null : (options.nonRetryableReason ?? null);
  }
}

/** Bad input from a user: a param, a flag, a config value. Never retryable. */
export class ValidationError extends SluiceError {
  override name = 'ValidationError';
  readonly field: string | undefined;
  constructor(message: string, field?: string, cause?: unknown) {
    super('validation', message, { cause });
    this.field = field;
  }
}

/**
 * Params a pipeline's schema refuses. Never retryable, and it says why: every attempt of
 * a run gets the same params.
 */
export class ParamsError extends ValidationError {
  override name = 'ParamsError';
  override readonly nonRetryableReason: string = 'the params are invalid, and every attempt gets the same params';
}

/** Something named does not exist: a pipeline, a run, a partition key. */
export class NotFoundError extends SluiceError {
  override name = 'NotFoundError';
  constructor(what: string, key: string) {
    super('not_found', `${what} not found: ${key}`);
  }
}

/** An adapter cannot do what was asked; the message says what to configure instead. */
export class NotSupportedError extends SluiceError {
  override name = 'NotSupportedError';
  constructor(message: string) {
    super('not_supported', message);
  }
}

/** Something ran past its time limit (a step attempt, a wait). Retryable: the next try may be faster. */
export class TimeoutError extends SluiceError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super('timeout', message, { retryable: true });
  }
}

/**
 * A part of Sluice cannot be reached or has gone: a closed bus, a worker process that
 * exited, a server that does not answer. Retryable unless said otherwise.
 */
export class UnavailableError extends SluiceError {
  override name = 'UnavailableError';
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('unavailable', message, { cause: options.cause, retryable: options.retryable ?? true });
  }
}

/** A request or a piece of work over a size limit; the message names the limit. */
export class TooLargeError extends SluiceError {
  override name = 'TooLargeError';
  constructor(message: string) {
    super('too_large', message);
  }
}

/** The run or step was cancelled on purpose. */
export class CancelledError extends SluiceError {
  override name = 'CancelledError';
  constructor(message = 'cancelled') {
    super('cancelled', message);
  }
}

/**
 * Wraps anything thrown by user step code, so a user bug and a framework bug never
 * look alike. User errors are retryable unless they say otherwise (`nonRetryable()`, a
 * non-retryable SluiceError); the message keeps the class of what was thrown (`TypeError: …`).
 */
export class StepError extends SluiceError {
  override name = 'StepError';
  constructor(step: string, cause: unknown) {
    const { retryable, reason } = retryabilityOf(cause);
    super('step_failed', `step ${step} failed: ${thrownText(cause)}`, { cause, retryable, nonRetryableReason: reason ?? undefined });
  }
}

/**
 * A bug or an outage in Sluice itself, outside user code: the message names the component,
 * so it never reads like the pipeline's fault. Retryable, as outages pass.
 */
export class InternalError extends SluiceError {
  override name = 'InternalError';
  readonly component: string;
  constructor(component: string, cause: unknown) {
    super('internal', `internal error in ${component}: ${thrownText(cause)}`, { cause, retryable: true });
    this.component = component;
  }
}

/** The class of a thrown value as a person reads it: `TypeError`, `ValidationError`, `string`. */
export function thrownName(value: unknown): string {
  if (value instanceof Error) return value.name || value.constructor.name || 'Error';
  return value === null ? 'null' : typeof value;
}

/** A thrown value's message, after its class when the class says something (`TypeError: …`, not `Error: …`). */
function thrownText(value: unknown): string {
  const kind = thrownName(value);
  const text = value instanceof Error ? value.message : String(value);
  return kind === 'Error' || kind === 'SluiceError' || !(value instanceof Error) ? text : `${kind}: ${text}`;
}

/**
 * Whether another attempt can help, and if not why: the author's mark (`retryable()` /
 * `nonRetryable()`) first, then what a Sluice error says of itself; anything else a step
 * throws is retryable.
 */
export function retryabilityOf(err: unknown): { retryable: boolean; reason: string | null } {
  const mark = retryMarkOf(err);
  if (mark) return { retryable: mark.retryable, reason: mark.retryable ? null : (mark.reason ?? 'the step marked the error non-retryable') };
  if (err instanceof SluiceError) {
    if (err.retryable) return { retryable: true, reason: null };
    if (err.nonRetryableReason !== null) return { retryable: false, reason: err.nonRetryableReason };
    return { retryable: false, reason: err instanceof ValidationError ? 'invalid input fails the same way every time' : `${err.name} (${err.code}) is not retryable` };
  }
  return { retryable: true, reason: null };
}

/** Turns anything thrown into a one-line, user-facing message of bounded length. */
export function describeError(err: unknown): string {
  return boundMessage(err instanceof Error ? err.message : String(err));
}

/**
 * Why a request carries no usable credentials: `missing` (no Authorization header),
 * `malformed` (not `Bearer <token>`), `invalid` (unknown or revoked; deliberately not told
 * apart, so a caller cannot probe which tokens once existed).
 */
export type UnauthorizedReason = 'missing' | 'malformed' | 'invalid';

/** The caller is not authenticated. */
export class UnauthorizedError extends SluiceError {
  override name = 'UnauthorizedError';
  readonly reason: UnauthorizedReason;
  constructor(reason: UnauthorizedReason, message: string) {
    super('unauthorized', message);
    this.reason = reason;
  }
}

/** The caller is authenticated but its role does not allow the action. */
export class ForbiddenError extends SluiceError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** The state does not allow it: something with this key exists, the run is not in that state. */
export class ConflictError extends SluiceError {
  override name = 'ConflictError';
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A write of a control plane that no longer leads: another one claimed a later leader epoch. */
export class FencedError extends ConflictError {
  override name = 'FencedError';
}
