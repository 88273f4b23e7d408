import { z } from 'zod';
import { SluiceError, ValidationError } from '../core/errors.ts';
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

const STATUS: Record<string, [number, string]> = {
  validation: [400, 'Bad request'],
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  query_refused: [403, 'Statement refused'],
  sql_error: [400, 'SQL error'],
  query_limit: [400, 'Query limit reached'],
  not_found: [404, 'Not found'],
  method_not_allowed: [405, 'Method not allowed'],
  conflict: [409, 'Conflict'],
  too_large: [413, 'Request too large'],
  unsupported_media_type: [415, 'Unsupported media type'],
  too_many_requests: [429, 'Too many requests'],
  not_supported: [501, 'Not supported'],
  unavailable: [503, 'Service unavailable'],
};

/** Maps any error to a problem document; internal errors keep their details out of the body. */
export function toProblem(err: unknown, instance?: string): Problem {
  if (err instanceof z.ZodError) return toProblem(fromZod(err), instance);
  if (err instanceof SluiceError && STATUS[err.code]) {
    const [status, title] = STATUS[err.code];
    const field = err instanceof ValidationError ? err.field : undefined;
    const position = err instanceof QuerySqlError ? err.position : undefined;
    return { type: `https://sluice.dev/problems/${err.code}`, title, status, detail: err.message, code: err.code, field, instance, position };
  }
  const code = err instanceof SluiceError ? err.code : 'internal';
  const detail = err instanceof SluiceError ? err.message : 'internal error; see the server log';
  return { type: `https://sluice.dev/problems/${code}`, title: 'Internal error', status: 500, detail, code, instance };
}

/** The first zod issue as a ValidationError naming its field. */
export function fromZod(err: z.ZodError, where = ''): ValidationError {
  const { field, message } = firstIssue(err, where);
  const name = field || '(request)';
  return new ValidationError(`${name}: ${message}`, name);
}
