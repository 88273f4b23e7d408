import { z } from 'zod';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

export const MAX_QUERY_ROWS = 10_000;

export function queryRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'POST', path: '/api/v1/query', operationId: 'query', summary: `Run SQL on the warehouse (at most ${MAX_QUERY_ROWS} rows)`,
      tag: 'warehouse', access: 'edit',
      body: z.object({ sql: z.string().min(1).max(100_000) }).strict(),
      response: z.object({ rows: z.array(z.record(z.string(), z.unknown())), truncated: z.boolean() }),
      handler: async ({ body }) => {
        const rows = await ctx.services.warehouse.query(body.sql);
        return { rows: rows.slice(0, MAX_QUERY_ROWS), truncated: rows.length > MAX_QUERY_ROWS };
      },
    }),
  ];
}
