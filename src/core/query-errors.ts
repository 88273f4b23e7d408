import { SluiceError } from './errors.ts';

/** The statement is one the query endpoint will not run; the message names the rule. HTTP 403. */
export class QueryRefusedError extends SluiceError {
  override name = 'QueryRefusedError';
  constructor(rule: string) {
    super('query_refused', `refused: ${rule}`);
  }
}

/** The engine rejected the SQL; `position` is the 0-based offset it names, when it names one. HTTP 400. */
export class QuerySqlError extends SluiceError {
  override name = 'QuerySqlError';
  readonly position: number | undefined;
  constructor(message: string, position?: number) {
    super('sql_error', message);
    this.position = position;
  }
}

/** The statement ran past a limit (time, memory, rows read); the message names it. HTTP 400. */
export class QueryLimitError extends SluiceError {
  override name = 'QueryLimitError';
  constructor(message: string) {
    super('query_limit', message);
  }
}

/** Too many statements are running; retry after `retryAfterSeconds`. HTTP 429. */
export class QueryBusyError extends SluiceError {
  override name = 'QueryBusyError';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super('too_many_requests', message, { retryable: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
