import { SluiceError, boundMessage } from '../../core/errors.ts';
import { QueryLimitError, QueryRefusedError, QuerySqlError } from '../../core/query-errors.ts';
import type { QueryLimits } from './query-policy.ts';

const LIMIT_TYPES = new Set(['TIMEOUT_EXCEEDED', 'TOO_SLOW', 'MEMORY_LIMIT_EXCEEDED', 'TOO_MANY_ROWS', 'TOO_MANY_BYTES', 'TOO_MANY_ROWS_OR_BYTES', 'QUERY_WAS_CANCELLED']);
const REFUSED_TYPES = new Set(['READONLY', 'ACCESS_DENIED', 'UNKNOWN_USER', 'NOT_ENOUGH_PRIVILEGES', 'SETTING_CONSTRAINT_VIOLATION']);
// Engine messages carry the position and the near text, so they may run longer than others.
const MAX_MESSAGE = 1_000;

/**
 * Turns what the engine threw at an untrusted statement into an error the caller can
 * act on: the engine's message and position for bad SQL (400), the limit it hit (400),
 * a refusal when the engine's own read-only guard fired (403). Failures with no engine
 * error type (the warehouse is down) stay what they were.
 */
export function engineFailure(err: unknown, limits: QueryLimits): Error {
  const cause = err instanceof SluiceError ? err.cause : err;
  const e = (cause ?? {}) as { type?: unknown; message?: unknown };
  const type = typeof e.type === 'string' ? e.type : '';
  if (type === '') return err instanceof Error ? err : new SluiceError('warehouse', String(err));
  // The statement reached the engine as a parameter of formatQuery(); its echo of that
  // wrapper says nothing the caller wrote.
  let message = String(e.message ?? '')
    .replace(/:? In scope SELECT formatQuery\([\s\S]*$/, '')
    .replace(/\s*SETTINGS max_execution_time = \d+, timeout_overflow_mode[^]*?max_bytes_before_external_sort = \d+(?:, readonly = 1)?/g, '')
    .trim();
  message = boundMessage(`${type}: ${message}`, MAX_MESSAGE);
  if (type === 'TIMEOUT_EXCEEDED' || type === 'TOO_SLOW') return new QueryLimitError(`query ran past the ${limits.timeoutMs / 1000} s limit (${message})`);
  if (type === 'MEMORY_LIMIT_EXCEEDED') return new QueryLimitError(`query needed more than the ${limits.maxMemoryBytes} bytes of memory it may use (${message})`);
  if (LIMIT_TYPES.has(type)) return new QueryLimitError(message);
  if (REFUSED_TYPES.has(type)) return new QueryRefusedError(`the engine refused it: ${message}`);
  const position = /failed at position (\d+)/.exec(message);
  return new QuerySqlError(message, position ? Number(position[1]) : undefined);
}
