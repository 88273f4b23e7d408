import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import { currentPartitionKey, firstOfLast, partitionKeys } from '../../core/partitions.ts';
import type { AnyPipeline } from '../../runtime/pipeline-registry.ts';
import { route, type AnyRoute } from '../route.ts';
import { partitionKey } from '../schemas.ts';
import type { ServerContext } from '../server-context.ts';

const pipelineSummary = z.object({
  name: z.string(),
  /** The file it was loaded from. */
  file: z.string().nullable(),
  description: z.string(),
  steps: z.array(z.string()),
  partitions: z.object({ granularity: z.enum(['daily', 'monthly']), start: z.string(), end: z.string().nullable() }).nullable(),
  schedules: z.array(z.object({ name: z.string(), cron: z.string(), timezone: z.string(), partition: z.string() })),
  concurrency: z.number().nullable(),
});

const pipelineDetail = pipelineSummary.extend({
  params: z.unknown(),
  dag: z.object({
    nodes: z.array(z.object({
      name: z.string(), description: z.string().nullable(), deps: z.array(z.string()),
      assets: z.array(z.object({ name: z.string(), checks: z.array(z.object({ name: z.string(), severity: z.enum(['warn', 'error']) })) })),
      retry: z.object({ maxAttempts: z.number(), backoffMs: z.number(), maxBackoffMs: z.number() }),
      timeoutMs: z.number().nullable(),
    })),
    edges: z.array(z.object({ from: z.string(), to: z.string() })),
  }),
  partitionStatus: z.array(z.object({ partition: z.string(), status: z.string(), runId: z.string(), updatedAt: z.string() })),
});

/** Keys one grid answer holds at most; a longer range is paged with from/to. */
export const MAX_GRID_KEYS = 400;

const partitionGrid = z.object({
  granularity: z.enum(['daily', 'monthly']),
  from: z.string(), to: z.string(),
  keys: z.array(z.string()).describe('Every key from..to, oldest first, whether it has a run or not'),
  steps: z.array(z.string()),
  items: z.array(z.object({
    partition: z.string(), status: z.string(), runId: z.string(), updatedAt: z.string(),
    steps: z.array(z.object({ step: z.string(), status: z.string(), reason: z.string().nullable() })),
  })).describe('The latest run of each key in from..to that has one, with its steps'),
});

const brokenPipeline = z.object({ file: z.string(), error: z.string(), line: z.number().int().nullable(), column: z.number().int().nullable() });

function summary(p: AnyPipeline, file: string | undefined): z.infer<typeof pipelineSummary> {
  return {
    name: p.name,
    file: file ?? null,
    description: p.description,
    steps: [...p.order],
    partitions: p.partitions ? { granularity: p.partitions.granularity, start: p.partitions.start, end: p.partitions.end ?? null } : null,
    schedules: p.schedules.map((s) => ({ ...s })),
    concurrency: p.concurrency,
  };
}

const pipelineList = z.object({ items: z.array(pipelineSummary), broken: z.array(brokenPipeline) });

const reloadResult = pipelineList.extend({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()).describe('still defined, with other code; runs in flight keep the code they started with'),
});

export function pipelineRoutes(ctx: ServerContext): AnyRoute[] {
  const listing = (): z.infer<typeof pipelineList> => ({
    items: ctx.registry.list().map((p) => summary(p, ctx.registry.originOf(p.name))),
    broken: ctx.registry.broken().map((b) => ({ ...b })),
  });
  return [
    route({
      method: 'GET', path: '/api/v1/pipelines', operationId: 'listPipelines', summary: 'List pipelines, and the files that did not load (with the error and its line)',
      tag: 'pipelines', access: 'view',
      response: pipelineList,
      handler: async () => listing(),
    }),
    route({
      method: 'POST', path: '/api/v1/pipelines/reload', operationId: 'reloadPipelines',
      summary: 'Load the pipeline files again (new, changed and removed files, in this process and its workers); runs in flight keep the code they started with',
      tag: 'pipelines', access: 'edit',
      response: reloadResult,
      handler: async () => {
        const changes = await (ctx.reloadPipelines ?? (() => ctx.registry.reload()))();
        return { ...listing(), ...changes };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/pipelines/:name', operationId: 'getPipeline', summary: 'One pipeline with its steps, DAG, assets, schedules and partitions',
      tag: 'pipelines', access: 'view',
      params: z.object({ name: z.string().min(1).max(200) }),
      response: pipelineDetail,
      handler: async ({ params }) => {
        const p = ctx.registry.get(params.name);
        const nodes = p.order.map((name) => {
          const s = p.steps.find((x) => x.name === name)!;
          return {
            name, description: s.description ?? null, deps: [...s.deps],
            assets: s.assets.map((a) => ({ name: a.name, checks: a.checks.map((c) => ({ name: c.name, severity: c.severity })) })),
            retry: { ...s.retry }, timeoutMs: s.timeoutMs,
          };
        });
        return {
          ...summary(p, ctx.registry.originOf(p.name)),
          params: z.toJSONSchema(p.params, { unrepresentable: 'any', io: 'input' }),
          dag: { nodes, edges: nodes.flatMap((n) => n.deps.map((d) => ({ from: d, to: n.name }))) },
          partitionStatus: p.partitions ? await ctx.services.metadata.runs.partitions(p.name) : [],
        };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/pipelines/:name/partitions', operationId: 'getPartitionGrid',
      summary: 'The partition grid: every key of a range with the latest run of each and its steps (default: the 400 keys up to the newest run)',
      tag: 'pipelines', access: 'view',
      params: z.object({ name: z.string().min(1).max(200) }),
      query: z.object({ from: partitionKey.optional(), to: partitionKey.optional() }).strict(),
      response: partitionGrid,
      handler: async ({ params, query }) => {
        const p = ctx.registry.get(params.name);
        const def = p.partitions;
        // A pipeline without partitions has no grid: the resource does not exist (and the request is well-formed).
        if (!def) throw new NotFoundError('partition grid (the pipeline is not partitioned)', p.name);
        const runs = ctx.services.metadata.runs;
        const clamp = (k: string) => (k < def.start ? def.start : def.end !== undefined && k > def.end ? def.end : k);
        // Without `to`: up to the newest key that has a run (or the current one when none has).
        const newest = query.to === undefined ? (await runs.partitions(p.name)).at(-1)?.partition : undefined;
        const to = query.to ?? clamp(newest ?? currentPartitionKey(def, new Date()));
        // Without `from`: the MAX_GRID_KEYS keys that end at `to`, or fewer from the start.
        const from = query.from ?? firstOfLast(def, to, MAX_GRID_KEYS);
        const keys = partitionKeys(def, from, to, true, MAX_GRID_KEYS);
        return { granularity: def.granularity, from, to, keys, steps: [...p.order], items: await runs.partitionRuns(p.name, from, to) };
      },
    }),
  ];
}
