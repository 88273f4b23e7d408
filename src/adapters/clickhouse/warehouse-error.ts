import { SluiceError } from '../../core/errors.ts';

// Server-side errors that another attempt can cure; every other typed error is a bug in
// the SQL or the data and retrying it only wastes time.
const RETRYABLE_TYPES = new Set([
  'TIMEOUT_EXCEEDED', 'TOO_MANY_SIMULTANEOUS_QUERIES', 'MEMORY_LIMIT_EXCEEDED', 'NETWORK_ERROR', 'SOCKET_TIMEOUT',
  'TABLE_IS_READ_ONLY', 'ALL_CONNECTION_TRIES_FAILED', 'KEEPER_EXCEPTION', 'ABORTED',
]);

/** A warehouse failure with the statement that caused it. */
export function warehouseError(err: unknown, sql: string): SluiceError {
  const e = err as { message?: string; type?: string; code?: string };
  const typed = typeof e.type === 'string' && e.type.length > 0;
  const retryable = typed ? RETRYABLE_TYPES.has(e.type!) : true;
  const statement = sql.replace(/\s+/g, ' ').trim();
  const excerpt = statement.length > 160 ? `${statement.slice(0, 160)}…` : statement;
  const what = typed ? `${e.type}: ` : '';
  return new SluiceError('warehouse', `warehouse: ${what}${(e.message ?? String(err)).trim()} [in: ${excerpt}]`, { cause: err, retryable });
}
