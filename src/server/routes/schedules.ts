import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import { cronOf } from '../../runtime/schedule-ticks.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';
import { MAX_PAGE } from './runs.ts';

const scheduleSchema = z.object({
  pipeline: z.string(), name: z.string(), cron: z.string(), timezone: z.string(), partition: z.string(),
  enabled: z.boolean(), evaluatedThrough: z.string().nullable(),
  nextTickAt: z.string().nullable().describe('When the schedule fires next; null while it is disabled'),
  lastTick: z.object({ tickAt: z.string(), status: z.string(), runId: z.string(), partition: z.string().nullable() }).nullable(),
});

const key = z.object({ pipeline: z.string().min(1).max(200), schedule: z.string().min(1).max(200) });

export function scheduleRoutes(ctx: ServerContext): AnyRoute[] {
  const store = ctx.services.metadata.schedules;
  const find = (pipeline: string, schedule: string) => {
    const def = ctx.registry.get(pipeline).schedules.find((s) => s.name === schedule);
    if (!def) throw new NotFoundError('schedule', `${pipeline}/${schedule}`);
    return def;
  };
  const list = async () => {
    const states = await store.listSchedules();
    return ctx.registry.list().flatMap((p) =>
      p.schedules.map((s) => {
        const st = states.find((x) => x.pipeline === p.name && x.schedule === s.name);
        const t = st?.lastTick;
        const enabled = st?.enabled ?? true;
        // The registry compiled the cron at load, so it parses; it is only computed here.
        const next = enabled ? cronOf(s).nextRun(new Date()) : null;
        return {
          pipeline: p.name, name: s.name, cron: s.cron, timezone: s.timezone, partition: s.partition,
          enabled, evaluatedThrough: st?.evaluatedThrough ?? null, nextTickAt: next?.toISOString() ?? null,
          lastTick: t ? { tickAt: t.tickAt, status: t.status, runId: t.runId, partition: t.partition } : null,
        };
      }),
    );
  };
  return [
    route({
      method: 'GET', path: '/api/v1/schedules', operationId: 'listSchedules', summary: 'Schedules with their state and last tick', tag: 'schedules', access: 'view',
      response: z.object({ items: z.array(scheduleSchema) }),
      handler: async () => ({ items: await list() }),
    }),
    route({
      method: 'PUT', path: '/api/v1/schedules/:pipeline/:schedule', operationId: 'setSchedule', summary: 'Enable or disable a schedule', tag: 'schedules', access: 'admin',
      params: key, body: z.object({ enabled: z.boolean() }).strict(), response: scheduleSchema,
      handler: async ({ params, body }) => {
        find(params.pipeline, params.schedule);
        await store.setEnabled(params.pipeline, params.schedule, body.enabled);
        return (await list()).find((s) => s.pipeline === params.pipeline && s.name === params.schedule)!;
      },
    }),
    route({
      method: 'GET', path: '/api/v1/schedules/:pipeline/:schedule/ticks', operationId: 'listTicks', summary: 'Recorded ticks of a schedule, newest first', tag: 'schedules', access: 'view',
      params: key, query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50) }).strict(),
      response: z.object({ items: z.array(z.object({ tickAt: z.string(), status: z.string(), runId: z.string(), partition: z.string().nullable(), reason: z.string().nullable() })) }),
      handler: async ({ params, query }) => {
        find(params.pipeline, params.schedule);
        const ticks = await store.listTicks({ pipeline: params.pipeline, schedule: params.schedule, limit: query.limit });
        return { items: ticks.map((t) => ({ tickAt: t.tickAt, status: t.status, runId: t.runId, partition: t.partition, reason: t.reason })) };
      },
    }),
    route({
      method: 'POST', path: '/api/v1/retention/prune', operationId: 'pruneHistory', summary: 'Delete finished runs (and their events) older than a number of days, now, in batches',
      tag: 'admin', access: 'admin',
      body: z.object({ olderThanDays: z.number().min(0).max(36_500), batchSize: z.number().int().min(1).max(10_000).default(500) }).strict(),
      response: z.object({ deletedRuns: z.number().int() }),
      handler: async ({ body }) => {
        const before = new Date(Date.now() - body.olderThanDays * 86_400_000).toISOString();
        let deletedRuns = 0;
        for (;;) {
          const n = await store.pruneHistory(before, body.batchSize);
          deletedRuns += n;
          if (n < body.batchSize) break;
          await new Promise((r) => setImmediate(r));
        }
        return { deletedRuns };
      },
    }),
  ];
}
