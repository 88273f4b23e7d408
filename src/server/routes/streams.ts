import { z } from 'zod';
import { STREAM_STATES } from '../../core/events.ts';
import type { StreamOffset } from '../../ports/metadata-store.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

const partition = z.object({ topic: z.string(), partition: z.number(), offset: z.number(), end: z.number(), lag: z.number() });

const streamSchema = z.object({
  stream: z.string().describe('`<pipeline>.<step>`: the name its offsets are kept under'),
  pipeline: z.string(),
  step: z.string(),
  description: z.string().nullable(),
  state: z.enum([...STREAM_STATES, 'stopped', 'failed']).describe('what the stream does now; stopped and failed when no run of it is active'),
  runId: z.string().nullable().describe('the active run, else the latest one'),
  attempt: z.number().nullable(),
  replicas: z.number().describe('attempts running it now: more than 1 while a stream that scales on lag (`scale`) reads with several'),
  reason: z.string().nullable().describe('why it backs off or failed'),
  partitions: z.array(partition).describe('per partition read: committed offset, end, lag'),
  lag: z.number().describe('records not consumed yet, over every partition'),
  counters: z.record(z.string(), z.number()).describe("the current attempt's totals: records_in, records_out, dead_letters, reconnects, resyncs, …"),
  rates: z.record(z.string(), z.number()).describe('the same per second, over the last report'),
  message: z.string().nullable(),
  updatedAt: z.string().nullable().describe('when it last reported (or its offsets were last saved)'),
});

/** The streams of every pipeline: what runs (from the coordinator's live reports) and where each stands (its committed offsets). */
export function streamRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/api/v1/streams', operationId: 'listStreams', summary: 'Stream steps with their state, lag per partition and throughput', tag: 'streams', access: 'view',
      query: z.object({ pipeline: z.string().max(200).optional() }).strict(),
      response: z.object({ items: z.array(streamSchema) }),
      handler: async ({ query }) => {
        const active = new Map(ctx.coordinator.activeStreams().map((a) => [a.stream, a]));
        const offsets = new Map<string, StreamOffset[]>();
        for (const o of await ctx.services.metadata.streams.list()) offsets.set(o.stream, [...(offsets.get(o.stream) ?? []), o]);
        const ends = new Map<string, Map<number, number>>();
        const endOf = async (topic: string) => {
          let known = ends.get(topic);
          if (!known) {
            known = new Map((await ctx.services.topics.partitions(topic).catch(() => [])).map((r) => [r.partition, r.end]));
            ends.set(topic, known);
          }
          return known;
        };
        const items: z.infer<typeof streamSchema>[] = [];
        for (const def of ctx.registry.list()) {
          if (query.pipeline !== undefined && def.name !== query.pipeline) continue;
          for (const s of def.steps) {
            if (!s.stream) continue;
            const stream = `${def.name}.${s.name}`;
            const live = active.get(stream);
            const report = ctx.coordinator.streamReport(stream);
            const current = live && report && report.runId === live.runId ? report : undefined;
            let state: z.infer<typeof streamSchema>['state'];
            let runId = live?.runId ?? null;
            let reason = live?.reason ?? null;
            if (live) {
              state = live.status === 'retrying' ? 'backing_off' : live.status === 'running' ? (current?.state ?? 'starting') : live.status === 'pending' ? 'starting' : 'stopping';
            } else {
              const [last] = await ctx.services.metadata.runs.list({ pipeline: def.name, limit: 1 });
              runId = last?.id ?? null;
              state = last?.status === 'failed' ? 'failed' : 'stopped';
              reason = last?.status === 'failed' ? last.error : null;
            }
            let partitions = current?.partitions.map((p) => ({ ...p })) ?? [];
            if (!current) {
              for (const o of offsets.get(stream) ?? []) {
                const end = (await endOf(o.topic)).get(o.partition) ?? o.offset;
                partitions.push({ topic: o.topic, partition: o.partition, offset: o.offset, end, lag: Math.max(0, end - o.offset) });
              }
            }
            partitions = partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
            const saved = (offsets.get(stream) ?? []).map((o) => o.updatedAt).sort().at(-1) ?? null;
            items.push({
              stream, pipeline: def.name, step: s.name, description: s.description ?? null, state, runId, attempt: live?.attempt ?? null, replicas: live?.replicas ?? 0, reason,
              partitions, lag: partitions.reduce((n, p) => n + p.lag, 0), counters: { ...current?.counters }, rates: { ...current?.rates },
              message: current?.message ?? null, updatedAt: current?.at ?? saved,
            });
          }
        }
        return { items };
      },
    }),
  ];
}
