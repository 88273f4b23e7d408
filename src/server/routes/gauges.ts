import { z } from 'zod';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

/** More series than a page shows is a label-cardinality problem; the list stops there. */
export const MAX_GAUGES = 1000;

export function gaugeRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/api/v1/gauges', operationId: 'listGauges',
      summary: `The latest value of every metric the pipelines set (ctx.gauge) and of Sluice's durable counters, as kept across restarts; by name, at most ${MAX_GAUGES}`,
      tag: 'quality', access: 'view',
      response: z.object({
        items: z.array(z.object({
          kind: z.enum(['gauge', 'counter']), name: z.string(), help: z.string(),
          labels: z.record(z.string(), z.string()), value: z.number(), updatedAt: z.string(),
        })),
        truncated: z.boolean(),
      }),
      handler: async () => {
        const all = (await ctx.services.metadata.gauges.list())
          .map((g) => ({ ...g, kind: g.kind ?? 'gauge' as const }))
          .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
        return { items: all.slice(0, MAX_GAUGES), truncated: all.length > MAX_GAUGES };
      },
    }),
  ];
}
