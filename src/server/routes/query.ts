import { z } from 'zod';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

/** Longest statement accepted; the engine's own parser limits depth and size below this. */
export const MAX_SQL_CHARS = 100_000;

export function queryRoutes(ctx: ServerContext): AnyRoute[] {
  const l = ctx.query.limits;
  return [
    route({
      method: 'POST', path: '/api/v1/query', operationId: 'query',
      summary: `Run one read-only statement (SELECT / WITH / SHOW TABLES / SHOW DATABASES / SHOW CREATE TABLE / DESCRIBE TABLE / EXPLAIN) over the pipeline databases. `
        + `The engine's parser decides what the statement is; table functions, files, URLs, other servers, SETTINGS and system tables beyond names and types are refused (403). `
        + `Limits: ${l.timeoutMs / 1000} s, ${l.maxRows} rows, ${l.maxBytes} bytes of JSON (beyond them rows are cut and truncated is true), ${l.maxMemoryBytes} bytes of memory; `
        + `${l.maxConcurrent} statements at once (429 beyond). SQL errors are 400 with the engine's message and position.`,
      tag: 'warehouse', access: 'edit',
      body: z.object({ sql: z.string().min(1).max(MAX_SQL_CHARS) }).strict(),
      response: z.object({
        rows: z.array(z.record(z.string(), z.unknown())),
        columns: z.array(z.object({ name: z.string(), type: z.string() })).describe('The result\'s columns with their engine types, in order'),
        truncated: z.boolean(),
        statement: z.enum(['select', 'show', 'describe', 'explain']),
        elapsedMs: z.number().int().nonnegative(),
      }),
      handler: async ({ body, principal, reply }) => {
        const aborted = new AbortController();
        // A client that hangs up stops the wait (and, where the engine can, the statement).
        const onClose = () => {
          if (!reply.raw.writableFinished) aborted.abort();
        };
        reply.raw.once('close', onClose);
        try {
          return await ctx.query.run(body.sql, { signal: aborted.signal, caller: principal.name });
        } finally {
          reply.raw.off('close', onClose);
        }
      },
    }),
  ];
}
