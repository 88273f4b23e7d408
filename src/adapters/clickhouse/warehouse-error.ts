import { SluiceError } from '../../core/errors.ts';

// Server-side errors that another attempt can cure; every other typed error is a bug in
// the SQL or the data and retrying it only wastes time.
const RETRYABLE_TYPES = new Set([
  'TIMEOUT_EXCEEDED', 'TOO_MANY_SIMULTANEOUS_QUERIES', 'MEMORY_LIMIT_EXCEEDED', 'NETWORK_ERROR', 'SOCKET_TIMEOUT',
  'TABLE_IS_READ_ONLY', 'ALL_CONNECTION_TRIES_FAILED', 'KEEPER_EXCEPTION', 'ABORTED',
]);

// The client appends `\nFORMAT <name>` to a query; the engine quotes it back in syntax
// errors, where it reads like part of what the user wrote.
const APPENDED_FORMAT = /\s*\nFORMAT (?:JSONEachRow|TabSeparated)\b/g;

/** A warehouse failure with the statement that caused it. */
export function warehouseError(err: unknown, sql: string): SluiceError {
  const e = err as { message?: string; type?: string; code?: string };
  const typed = typeof e.type === 'string' && e.type.length > 0;
  const retryable = typed ? RETRYABLE_TYPES.has(e.type!) : true;
  const statement = sql.replace(/\s+/g, ' ').trim();
  const excerpt = statement.length > 160 ? `${statement.slice(0, 160)}…` : statement;
  const what = typed ? `${e.type}: ` : '';
  const message = (e.message ?? String(err)).replace(APPENDED_FORMAT, '').trim();
  return new SluiceError('warehouse', `warehouse: ${what}${message} [in: ${excerpt}]`, {
    cause: err, retryable, nonRetryableReason: typed ? `the warehouse refuses the statement (${e.type}) the same way every time` : undefined,
  });
}
