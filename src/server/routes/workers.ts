import { z } from 'zod';
import { SluiceError } from '../../core/errors.ts';
import { pingWorkers } from '../../runtime/ping.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

export function workerRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/api/v1/workers', operationId: 'listWorkers', summary: 'The warm worker processes of this control plane', tag: 'workers', access: 'view',
      response: z.object({ items: z.array(z.object({ id: z.string(), pid: z.number().nullable(), alive: z.boolean(), ready: z.boolean(), running: z.array(z.string()), restarts: z.number() })) }),
      handler: async () => ({
        items: (ctx.workers?.() ?? []).map((w) => ({ id: w.id, pid: w.pid, alive: w.alive, ready: w.ready, running: [...w.running], restarts: w.restarts })),
      }),
    }),
    route({
      method: 'POST', path: '/api/v1/workers/ping', operationId: 'pingWorkers', summary: 'Send ping on the control topic and collect the pongs',
      // It writes to the control topic, so it is an edit right like every other POST.
      tag: 'workers', access: 'edit',
      body: z.object({ workerId: z.string().max(100).optional(), waitMs: z.number().int().min(10).max(10_000).default(1000) }).strict(),
      response: z.object({ pongs: z.array(z.object({ workerId: z.string(), rttMs: z.number(), running: z.array(z.string()) })) }),
      handler: async ({ body }) => {
        const pongs = await pingWorkers(ctx.services.bus, ctx.coordinator, { workerId: body.workerId ?? null, waitMs: body.waitMs });
        if (body.workerId && pongs.length === 0) throw new SluiceError('not_found', `worker ${body.workerId} did not answer within ${body.waitMs} ms`);
        return { pongs };
      },
    }),
  ];
}
