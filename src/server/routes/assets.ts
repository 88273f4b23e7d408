import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import { route, type AnyRoute } from '../route.ts';
import { checkResultSchema, materializationSchema, partitionKey } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';
import { MAX_PAGE } from './runs.ts';

interface AssetInfo {
  name: string;
  pipeline: string;
  step: string;
  description: string | null;
  checks: { name: string; severity: 'warn' | 'error' }[];
}

const assetSchema = z.object({
  name: z.string(), pipeline: z.string(), step: z.string(), description: z.string().nullable(),
  checks: z.array(z.object({ name: z.string(), severity: z.enum(['warn', 'error']) })),
});

function allAssets(ctx: ServerContext): AssetInfo[] {
  return ctx.registry.list().flatMap((p) =>
    p.steps.flatMap((s) =>
      s.assets.map((a) => ({
        name: a.name, pipeline: p.name, step: s.name, description: a.description ?? null,
        checks: a.checks.map((c) => ({ name: c.name, severity: c.severity })),
      })),
    ),
  );
}

/** Asset A feeds asset B when B's step depends (directly) on A's step in the same pipeline. */
function lineage(ctx: ServerContext): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const p of ctx.registry.list()) {
    for (const s of p.steps) {
      for (const d of s.deps) {
        const up = p.steps.find((x) => x.name === d)!;
        for (const a of up.assets) for (const b of s.assets) edges.push({ from: a.name, to: b.name });
      }
    }
  }
  return edges;
}

const history = z.object({
  partition: partitionKey.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
}).strict();

export function assetRoutes(ctx: ServerContext): AnyRoute[] {
  const known = (name: string) => {
    if (!allAssets(ctx).some((a) => a.name === name)) throw new NotFoundError('asset', name);
  };
  return [
    route({
      method: 'GET', path: '/api/v1/assets', operationId: 'listAssets', summary: 'List assets', tag: 'assets', access: 'view',
      response: z.object({ items: z.array(assetSchema) }),
      handler: async () => ({ items: allAssets(ctx) }),
    }),
    route({
      method: 'GET', path: '/api/v1/assets/:name/materializations', operationId: 'listMaterializations', summary: 'Materializations of an asset, newest first',
      tag: 'assets', access: 'view', params: z.object({ name: z.string().min(1).max(300) }), query: history,
      response: z.object({ items: z.array(materializationSchema) }),
      handler: async ({ params, query }) => {
        known(params.name);
        const h = await ctx.services.metadata.assetHistory({ asset: params.name, ...query });
        return { items: h.materializations };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/assets/:name/checks', operationId: 'listCheckResults', summary: 'Check results of an asset, newest first',
      tag: 'assets', access: 'view', params: z.object({ name: z.string().min(1).max(300) }), query: history,
      response: z.object({ items: z.array(checkResultSchema) }),
      handler: async ({ params, query }) => {
        known(params.name);
        const h = await ctx.services.metadata.assetHistory({ asset: params.name, ...query });
        return { items: h.checks };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/lineage', operationId: 'getLineage', summary: 'The asset graph', tag: 'assets', access: 'view',
      response: z.object({ nodes: z.array(assetSchema), edges: z.array(z.object({ from: z.string(), to: z.string() })) }),
      handler: async () => ({ nodes: allAssets(ctx), edges: lineage(ctx) }),
    }),
  ];
}
