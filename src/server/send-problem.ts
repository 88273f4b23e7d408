import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, SluiceError, ValidationError } from '../core/errors.ts';
import type { Logger } from '../runtime/services.ts';
import { QueryBusyError } from '../core/query-errors.ts';
import { BusyError } from './busy-error.ts';
import { toProblem } from './problem.ts';

/** Codes for errors fastify raises itself (before a route runs), by status. */
const HTTP_CODES: Record<number, ErrorCode> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'too_large',
};

/** Fastify's own 4xx errors as ours, so they are problems with a stable code too. */
function asSluiceError(err: unknown): unknown {
  if (err instanceof SluiceError) return err;
  const e = err as { statusCode?: number; message?: string };
  const status = e.statusCode ?? 500;
  if (status === 415) return new SluiceError('unsupported_media_type', 'unsupported content type; send application/json');
  if (status === 400) return new ValidationError(`body: ${e.message ?? 'bad request'}`, 'body');
  if (HTTP_CODES[status]) return new SluiceError(HTTP_CODES[status], e.message ?? `HTTP ${status}`);
  return err;
}

/**
 * Sends `err` as a problem document carrying the request id; a 500 is logged under the
 * same id (with the stack), so the body a caller quotes finds the log line.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: unknown, logger?: Logger): FastifyReply {
  const e = asSluiceError(err);
  const problem = { ...toProblem(e, request.url.split('?')[0]), requestId: String(request.id) };
  if (problem.status >= 500) {
    logger?.error({ requestId: problem.requestId, method: request.method, url: request.url, err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'request failed');
  }
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="sluice"');
  if (e instanceof BusyError || e instanceof QueryBusyError) void reply.header('retry-after', String(e.retryAfterSeconds));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}
