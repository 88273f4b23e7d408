import { z } from 'zod';
import { SluiceError, ValidationError, type ErrorCode } from '../core/errors.ts';
import { QuerySqlError } from '../core/query-errors.ts';
import { firstIssue } from '../core/zod-issue.ts';

/** RFC 9457 problem details with our stable `code`. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  field: z.string().optional(),
  instance: z.string().optional(),
  /** Where the engine says a SQL error is (`POST /query`), as it counts: 1-based. */
  position: z.number().int().optional(),
  /** Names the request in the server log; every 500 is logged with it. */
  requestId: z.string().optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** Every error code's HTTP status: total, so a new code cannot reach a client unmapped. */
const STATUS: Record<ErrorCode, [number, string]> = {
  validation: [400, 'Bad request'],
  sql_error: [400, 'SQL error'],
  query_limit: [400, 'Query limit reached'],
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  query_refused: [403, 'Statement refused'],
  source_forbidden: [403, 'Source refused'],
  not_found: [404, 'Not found'],
  method_not_allowed: [405, 'Method not allowed'],
  conflict: [409, 'Conflict'],
  cancelled: [409, 'Cancelled'],
  too_large: [413, 'Request too large'],
  source_too_large: [413, 'Source too large'],
  unsupported_media_type: [415, 'Unsupported media type'],
  too_many_requests: [429, 'Too many requests'],
  internal: [500, 'Internal error'],
  step_failed: [500, 'Step failed'],
  not_supported: [501, 'Not supported'],
  source_unavailable: [502, 'Source unavailable'],
  warehouse: [502, 'Warehouse error'],
  object_store_failed: [502, 'Object store error'],
  unavailable: [503, 'Service unavailable'],
  timeout: [504, 'Timeout'],
  source_timeout: [504, 'Source timeout'],
};

/** Maps any error to a problem document; internal errors keep their details out of the body. */
export function toProblem(err: unknown, instance?: string): Problem {
  if (err instanceof z.ZodError) return toProblem(fromZod(err), instance);
  if (err instanceof SluiceError) {
    const [status, title] = STATUS[err.code];
    const field = err instanceof ValidationError ? err.field : undefined;
    const position = err instanceof QuerySqlError ? err.position : undefined;
    return { type: `https://sluice.dev/problems/${err.code}`, title, status, detail: err.message, code: err.code, field, instance, position };
  }
  return { type: 'https://sluice.dev/problems/internal', title: 'Internal error', status: 500, detail: 'internal error; see the server log', code: 'internal', instance };
}

/** The first zod issue as a ValidationError naming its field. */
export function fromZod(err: z.ZodError, where = ''): ValidationError {
  const { field, message } = firstIssue(err, where);
  const name = field || '(request)';
  return new ValidationError(`${name}: ${message}`, name);
}
