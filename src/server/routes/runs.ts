import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts';
import { RUN_STATUSES, isTerminalRun } from '../../core/states.ts';
import { route, type AnyRoute } from '../route.ts';
import { decodeCursor, encodeCursor, instant, paramsRecord, partitionKey, runDetailSchema, runSchema } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';

export const MAX_PAGE = 200;

const HOUR = 3_600_000;
const COUNT_WINDOWS = { '24h': { bucketMs: HOUR, buckets: 24 }, '7d': { bucketMs: 6 * HOUR, buckets: 28 } } as const;

const runId = z.object({ id: z.string().uuid() });

export function runRoutes(ctx: ServerContext): AnyRoute[] {
  const { metadata } = ctx.services;
  const detail = async (id: string) => {
    const d = await metadata.runs.get(id);
    if (!d) throw new NotFoundError('run', id);
    return d;
  };
  return [
    route({
      method: 'POST', path: '/api/v1/runs', operationId: 'createRun', summary: 'Start a run', tag: 'runs', access: 'edit', status: 201,
      body: z.object({
        pipeline: z.string().min(1).max(200),
        partition: partitionKey.optional(),
        params: paramsRecord.optional(),
        allPartitions: z.boolean().optional().describe('A partitioned pipeline without `partition`: one run over every partition the source has'),
        allowOutOfRange: z.boolean().optional().describe('Run a key before the first partition, after the last, or after the current open one'),
      }).strict(),
      response: runSchema,
      handler: async ({ body }) => {
        const { run } = await ctx.coordinator.submit({
          pipeline: body.pipeline, partition: body.partition, params: body.params, allPartitions: body.allPartitions, allowOutOfRange: body.allowOutOfRange,
        });
        return run;
      },
    }),
    route({
      method: 'GET', path: '/api/v1/runs', operationId: 'listRuns', summary: 'List runs, newest first, with cursor pagination', tag: 'runs', access: 'view',
      query: z.object({
        pipeline: z.string().max(200).optional(),
        status: z.enum(RUN_STATUSES).optional(),
        createdFrom: instant.optional(),
        createdTo: instant.optional(),
        limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
        cursor: z.string().max(500).optional(),
      }).strict(),
      response: z.object({ items: z.array(runSchema), nextCursor: z.string().nullable() }),
      handler: async ({ query }) => {
        const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        if (before === null) throw new ValidationError('query.cursor: not a cursor this API issued', 'query.cursor');
        const items = await metadata.runs.list({ ...query, before, limit: query.limit + 1 });
        const page = items.slice(0, query.limit);
        return { items: page, nextCursor: items.length > query.limit ? encodeCursor(page.at(-1)!) : null };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/runs/counts', operationId: 'countRuns',
      summary: 'Runs created over the last 24 hours (hourly buckets) or 7 days (6-hour buckets), counted per status; every bucket is listed, oldest first',
      tag: 'runs', access: 'view',
      query: z.object({ window: z.enum(['24h', '7d']).default('24h'), pipeline: z.string().max(200).optional() }).strict(),
      response: z.object({
        bucketMs: z.number().int().positive(),
        buckets: z.array(z.object({
          start: z.string().describe('Start of the bucket (ISO 8601); it ends where the next starts'),
          counts: z.partialRecord(z.enum(RUN_STATUSES), z.number().int().nonnegative()).describe('Runs per status; a status without runs is left out'),
        })),
      }),
      handler: async ({ query }) => {
        const { bucketMs, buckets } = COUNT_WINDOWS[query.window];
        // Buckets end at the next boundary after now, so the newest one is the current hour.
        const end = Math.ceil((Date.now() + 1) / bucketMs) * bucketMs;
        const from = end - buckets * bucketMs;
        const counts = await metadata.runs.counts({
          from: new Date(from).toISOString(), to: new Date(end).toISOString(), bucketMs, pipeline: query.pipeline,
        });
        const out = Array.from({ length: buckets }, (_, i) => ({ start: new Date(from + i * bucketMs).toISOString(), counts: {} as Record<string, number> }));
        for (const c of counts) {
          const b = out[c.bucket];
          if (b) b.counts[c.status] = c.count;
        }
        return { bucketMs, buckets: out };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/runs/:id', operationId: 'getRun', summary: 'One run with its steps and attempts', tag: 'runs', access: 'view',
      params: runId, response: runDetailSchema,
      handler: async ({ params }) => detail(params.id),
    }),
    route({
      method: 'POST', path: '/api/v1/runs/:id/cancel', operationId: 'cancelRun', summary: 'Cancel a run', tag: 'runs', access: 'edit', status: 202,
      params: runId, response: runSchema,
      handler: async ({ params }) => {
        const d = await detail(params.id);
        if (isTerminalRun(d.run.status)) throw new ConflictError(`run ${params.id} already ${d.run.status}; nothing to cancel`);
        if (!(await ctx.coordinator.cancel(params.id))) {
          throw new ConflictError(`run ${params.id} is ${d.run.status}, not active here`);
        }
        return (await detail(params.id)).run;
      },
    }),
    route({
      method: 'POST', path: '/api/v1/runs/:id/retry', operationId: 'retryRun', summary: 'Re-execute a failed run from its failed steps, as a new run whose parentRunId is this one', tag: 'runs', access: 'edit', status: 201,
      params: runId, response: runSchema,
      handler: async ({ params }) => (await ctx.coordinator.retry(params.id)).run,
    }),
  ];
}
