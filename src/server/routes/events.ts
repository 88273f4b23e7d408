import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import type { EventRecord } from '../../ports/metadata-store.ts';
import { route, type AnyRoute } from '../route.ts';
import { eventSchema } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';

const BATCH = 500;
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events from the event table: every event has a global id, sent as the SSE
 * `id`, so a client that reconnects with `Last-Event-ID` resumes exactly after the last one
 * it saw. New events wake the stream through the coordinator's updates; a keep-alive comment
 * goes out when nothing happens.
 */
function stream(ctx: ServerContext, runId: string | undefined): AnyRoute['handler'] {
  return async ({ request, reply, query }) => {
    const q = query as { after?: number };
    const header = request.headers['last-event-id'];
    let after = Number(Array.isArray(header) ? header[0] : header ?? q.after ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) after = 0;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    let wake: (() => void) | null = null;
    const off = ctx.coordinator.onUpdate(() => wake?.());
    let open = true;
    request.raw.on('close', () => {
      open = false;
      wake?.();
    });
    const send = (e: EventRecord) => res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    try {
      while (open) {
        const batch = await ctx.services.metadata.listEvents({ runId, afterId: after, limit: BATCH });
        for (const e of batch) send(e);
        if (batch.length > 0) after = batch.at(-1)!.id;
        if (batch.length === BATCH) continue;
        const finished = runId !== undefined && !ctx.coordinator.isActive(runId) && (await ctx.services.metadata.getRun(runId))?.run.finishedAt;
        if (finished) {
          const rest = await ctx.services.metadata.listEvents({ runId, afterId: after, limit: BATCH });
          for (const e of rest) send(e);
          res.write('event: end\ndata: {}\n\n');
          break;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            res.write(': keep-alive\n\n');
            resolve();
          }, KEEPALIVE_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      off();
      res.end();
    }
    return undefined;
  };
}

const query = z.object({ after: z.coerce.number().int().nonnegative().optional() }).strict();

export function eventRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/api/v1/runs/:id/events', operationId: 'streamRunEvents', summary: 'A run\'s events as Server-Sent Events (resumable with Last-Event-ID); ends when the run has ended',
      tag: 'events', access: 'view', produces: 'text/event-stream',
      params: z.object({ id: z.string().uuid() }), query, response: eventSchema,
      handler: async (c) => {
        if (!(await ctx.services.metadata.getRun(c.params.id))) {
          throw new NotFoundError('run', c.params.id);
        }
        return stream(ctx, c.params.id)(c);
      },
    }),
    route({
      method: 'GET', path: '/api/v1/events', operationId: 'streamEvents', summary: 'All events as Server-Sent Events (resumable with Last-Event-ID)',
      tag: 'events', access: 'view', produces: 'text/event-stream', query, response: eventSchema,
      handler: stream(ctx, undefined),
    }),
  ];
}
