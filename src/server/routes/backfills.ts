import { z } from 'zod';
import { route, type AnyRoute } from '../route.ts';
import { paramsRecord, partitionKey } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';

/** Bounds on what one request may ask for. */
export const MAX_BACKFILL_PARTITIONS_API = 1000;
export const MAX_BACKFILL_CONCURRENCY = 16;

const backfillSchema = z.object({
  id: z.string(), pipeline: z.string(), from: z.string(), to: z.string(), concurrency: z.number(),
  status: z.enum(['running', 'succeeded', 'failed']).describe('succeeded when every run succeeded or had no data'), createdAt: z.string(),
  counts: z.object({ succeeded: z.number(), noData: z.number(), failed: z.number(), pending: z.number() }).describe('the runs by outcome; failed includes cancelled'),
  partitions: z.array(z.object({ partition: z.string(), status: z.string(), runId: z.string().nullable(), error: z.string().nullable() })),
});

export function backfillRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'POST', path: '/api/v1/backfills', operationId: 'createBackfill', summary: 'One run per partition in a range', tag: 'backfills', access: 'edit', status: 202,
      body: z.object({
        pipeline: z.string().min(1).max(200),
        from: partitionKey,
        to: partitionKey,
        concurrency: z.number().int().min(1).max(MAX_BACKFILL_CONCURRENCY).optional(),
        params: paramsRecord.optional(),
        allowOutOfRange: z.boolean().optional().describe('Let the range reach before the first partition, after the last, or after the current open one'),
      }).strict(),
      response: backfillSchema,
      handler: async ({ body }) => {
        return ctx.backfills.start({ ...body, maxPartitions: MAX_BACKFILL_PARTITIONS_API });
      },
    }),
    route({
      method: 'GET', path: '/api/v1/backfills/:id', operationId: 'getBackfill', summary: 'Backfill status per partition', tag: 'backfills', access: 'view',
      params: z.object({ id: z.string().uuid() }), response: backfillSchema,
      handler: async ({ params }) => ctx.backfills.status(params.id),
    }),
  ];
}
