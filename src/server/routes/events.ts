import { METRICS } from '../../core/metric-catalogue.ts';
import { catalogued } from '../../runtime/catalogued-metrics.ts';
import { z } from 'zod';
import { describeError, NotFoundError } from '../../core/errors.ts';
import { route, type AnyRoute } from '../route.ts';
import { eventSchema } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';
import type { EventPages } from '../sse/event-pages.ts';
import { SseWriter } from '../sse/sse-writer.ts';

const KEEPALIVE_MS = 15_000;
const COALESCE_MS = 50;

/**
 * Where a stream starts: after `Last-Event-ID` or `?after`, at `?from` (that id included),
 * else a run's stream at the run's first event and the global stream live, after the latest
 * event, since a client of every run's events wants what happens now, not the whole table.
 */
function startAfter(pages: EventPages, runId: string | undefined, header: unknown, query: EventsQuery): Promise<number> | number {
  if (typeof header === 'string') return Number(header);
  if (query.after !== undefined) return query.after;
  if (query.from !== undefined) return Math.max(0, query.from - 1);
  return runId === undefined ? pages.latestId() : 0;
}

/**
 * Server-Sent Events from the event table: every event has a global id, sent as the SSE
 * `id`, so a client that reconnects with `Last-Event-ID` resumes exactly after the last one
 * it saw. New events wake the stream through the coordinator's updates; a keep-alive comment
 * goes out when nothing happens. Each write waits for the client (see SseWriter), so a
 * client that does not read holds a bounded buffer and, soon, nothing.
 */
function stream(ctx: ServerContext, runId: string | undefined): AnyRoute['handler'] {
  const { limiter, pages, bounds, maxStreamMs } = ctx.streams;
  return async ({ request, reply, query, principal }) => {
    // HEAD answers what a GET would start with and ends there, holding no stream.
    if (request.method === 'HEAD') return '';
    const release = limiter.acquire(principal.name);
    let after: number;
    try {
      after = await startAfter(pages, runId, request.headers['last-event-id'], query as EventsQuery);
    } catch (err) {
      release();
      throw err;
    }
    reply.hijack();
    const res = reply.raw;
    const writer = new SseWriter(res, bounds, (reason) =>
      catalogued(ctx.services.metrics).inc(METRICS.sseOverflows, { reason }));
    void writer.closed.then(release);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let wake: (() => void) | null = null;
    const off = ctx.coordinator.onUpdate(() => wake?.());
    void writer.closed.then(() => wake?.());
    const sendPage = async (): Promise<number> => {
      const page = await pages.page(runId, after);
      for (const c of page.chunks) {
        if (!(await writer.write(c.data, c.lastId))) return -1;
        after = c.lastId;
      }
      return page.count;
    };
    const deadline = Date.now() + maxStreamMs;
    try {
      if (!(await writer.write('retry: 2000\n\n'))) return undefined;
      while (writer.open) {
        const n = await sendPage();
        if (n < 0) break;
        if (n === pages.pageSize) continue;
        const finished = runId !== undefined && !ctx.coordinator.isActive(runId) && (await ctx.services.metadata.runs.get(runId))?.run.finishedAt;
        if (finished) {
          while ((await sendPage()) === pages.pageSize);
          if (writer.open) await writer.write('event: end\ndata: {}\n\n');
          break;
        }
        const left = deadline - Date.now();
        // Long enough: the client reconnects with Last-Event-ID, to this server or another.
        if (left <= 0) break;
        const idle = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(true), Math.min(KEEPALIVE_MS, left));
          wake = () => {
            clearTimeout(t);
            resolve(false);
          };
        });
        wake = null;
        // A burst of events (a step logging thousands of lines) is read a page at a time
        // after a short pause, not once per event: the store serves the coordinator too.
        if (!idle) await new Promise((r) => setTimeout(r, COALESCE_MS));
        if (idle && Date.now() < deadline && !(await writer.write(': keep-alive\n\n'))) break;
      }
    } catch (err) {
      // The status line is out already: all a client can be told is that the stream ended.
      ctx.services.logger.error({ err: describeError(err), runId }, 'event stream failed');
    } finally {
      off();
      writer.end();
    }
    return undefined;
  };
}

const eventId = z.string().regex(/^\d{1,15}$/, 'must be an event id (digits)');
const query = z.object({
  after: eventId.transform(Number).optional().describe('Start after this event id (what Last-Event-ID does)'),
  from: eventId.transform(Number).optional().describe('Start at this event id, included: ?from=0 replays the whole history. Without it, Last-Event-ID or after, GET /events starts live'),
}).strict();
type EventsQuery = z.output<typeof query>;
/** What an EventSource sends when it reconnects: the last id it saw. */
const headers = z.object({ 'last-event-id': eventId.optional() });

export function eventRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/api/v1/runs/:id/events', operationId: 'streamRunEvents', summary: 'A run\'s events as Server-Sent Events, from its first event (or ?from=, or resumed with Last-Event-ID); ends when the run has ended',
      tag: 'events', access: 'view', produces: 'text/event-stream',
      params: z.object({ id: z.string().uuid() }), query, headers, response: eventSchema,
      handler: async (c) => {
        if (!(await ctx.services.metadata.runs.get(c.params.id))) {
          throw new NotFoundError('run', c.params.id);
        }
        return stream(ctx, c.params.id)(c);
      },
    }),
    route({
      method: 'GET', path: '/api/v1/events', operationId: 'streamEvents', summary: 'Events of every run as Server-Sent Events: live (new events only) unless ?from= asks for history; resumable with Last-Event-ID',
      tag: 'events', access: 'view', produces: 'text/event-stream', query, headers, response: eventSchema,
      handler: stream(ctx, undefined),
    }),
  ];
}
