import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import type { AssetKind } from '../../sdk/asset.ts';
import { assetLineage, type LineageEdge } from '../../sdk/lineage.ts';
import { route, type AnyRoute } from '../route.ts';
import { assetRowsRoute } from './asset-rows.ts';
import { checkResultSchema, materializationSchema, partitionKey } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';
import { MAX_PAGE } from './runs.ts';

interface AssetInfo {
  name: string;
  pipeline: string;
  step: string;
  description: string | null;
  kind: AssetKind;
  checks: { name: string; severity: 'warn' | 'error' }[];
}

const assetSchema = z.object({
  name: z.string(), pipeline: z.string(), step: z.string(), description: z.string().nullable(),
  kind: z.enum(['data', 'quality', 'quarantine']).describe('data: a data product; quality: figures per partition (charted on /quality); quarantine: rows that could not be read'),
  checks: z.array(z.object({ name: z.string(), severity: z.enum(['warn', 'error']) })),
});

const latestSchema = z.object({
  runId: z.string(),
  partition: z.string().nullable().describe('The partition key it was written for; null for a run without one'),
  rows: z.number().describe("The asset's rows for that run's partition (or for all the days a run without a key covered)"),
  metadata: z.record(z.string(), z.unknown()),
  at: z.string().describe('When it was recorded (ISO 8601)'),
}).nullable().describe('Its newest materialization, or null when none is recorded');

const assetListSchema = assetSchema.extend({
  upstream: z.array(z.string()).describe('Assets it is made from (lineage)'),
  downstream: z.array(z.string()).describe('Assets made from it'),
  latest: latestSchema,
  lastChecks: z.array(z.object({
    check: z.string(), passed: z.boolean(), severity: z.enum(['warn', 'error']), partition: z.string().nullable(), at: z.string(),
  })).describe("Each check's newest result (any partition); a check never evaluated is left out"),
});

function allAssets(ctx: ServerContext): AssetInfo[] {
  return ctx.registry.list().flatMap((p) =>
    p.steps.flatMap((s) =>
      s.assets.map((a) => ({
        name: a.name, pipeline: p.name, step: s.name, description: a.description ?? null, kind: a.kind,
        checks: a.checks.map((c) => ({ name: c.name, severity: c.severity })),
      })),
    ),
  );
}

/** Every pipeline's asset graph: declared deps, else the assets of the step's deps. */
function lineage(ctx: ServerContext): LineageEdge[] {
  return ctx.registry.list().flatMap((p) => assetLineage(p.steps));
}

async function listAssets(ctx: ServerContext) {
  const assets = allAssets(ctx);
  const edges = lineage(ctx);
  const latest = new Map((await ctx.services.metadata.assets.latest(assets.map((a) => a.name))).map((m) => [m.asset, m]));
  // The newest results of the assets that have checks: a few per check is enough to find each one's newest.
  const checked = await Promise.all(assets.filter((a) => a.checks.length > 0).map(async (a) => {
    const { checks } = await ctx.services.metadata.assets.history({ asset: a.name, limit: a.checks.length * 5 });
    const newest = new Map<string, (typeof checks)[number]>();
    for (const c of checks) if (!newest.has(c.check)) newest.set(c.check, c);
    return [a.name, [...newest.values()].map((c) => ({ check: c.check, passed: c.passed, severity: c.severity, partition: c.partition, at: c.ts }))] as const;
  }));
  const lastChecks = new Map(checked);
  return assets.map((a) => {
    const m = latest.get(a.name);
    return {
      ...a,
      upstream: edges.filter((e) => e.to === a.name).map((e) => e.from),
      downstream: edges.filter((e) => e.from === a.name).map((e) => e.to),
      latest: m ? { runId: m.runId, partition: m.partition, rows: m.rows, metadata: m.metadata, at: m.ts } : null,
      lastChecks: lastChecks.get(a.name) ?? [],
    };
  });
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
      method: 'GET', path: '/api/v1/assets', operationId: 'listAssets', summary: 'List assets with their lineage and newest materialization',
      tag: 'assets', access: 'view',
      response: z.object({ items: z.array(assetListSchema) }),
      handler: async () => ({ items: await listAssets(ctx) }),
    }),
    route({
      method: 'GET', path: '/api/v1/assets/:name/materializations', operationId: 'listMaterializations', summary: 'Materializations of an asset, newest first',
      tag: 'assets', access: 'view', params: z.object({ name: z.string().min(1).max(300) }), query: history,
      response: z.object({ items: z.array(materializationSchema) }),
      handler: async ({ params, query }) => {
        known(params.name);
        const h = await ctx.services.metadata.assets.history({ asset: params.name, ...query });
        return { items: h.materializations };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/assets/:name/checks', operationId: 'listCheckResults', summary: 'Check results of an asset, newest first',
      tag: 'assets', access: 'view', params: z.object({ name: z.string().min(1).max(300) }), query: history,
      response: z.object({ items: z.array(checkResultSchema) }),
      handler: async ({ params, query }) => {
        known(params.name);
        const h = await ctx.services.metadata.assets.history({ asset: params.name, ...query });
        return { items: h.checks };
      },
    }),
    assetRowsRoute(ctx, known),
    route({
      method: 'GET', path: '/api/v1/lineage', operationId: 'getLineage', summary: 'The asset graph', tag: 'assets', access: 'view',
      response: z.object({ nodes: z.array(assetSchema), edges: z.array(z.object({ from: z.string(), to: z.string() })) }),
      handler: async () => ({ nodes: allAssets(ctx), edges: lineage(ctx) }),
    }),
  ];
}
