import { z } from 'zod';
import { describeError } from '../../core/errors.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

const PROBE_TIMEOUT_MS = 5_000;

export function healthRoutes(ctx: ServerContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/healthz', operationId: 'health', summary: 'The process is up', tag: 'health', access: 'public',
      response: z.object({ status: z.literal('ok'), version: z.string(), startedAt: z.string() }),
      handler: async () => ({ status: 'ok' as const, version: ctx.version, startedAt: ctx.startedAt }),
    }),
    route({
      method: 'GET', path: '/readyz', operationId: 'ready', summary: 'The stores answer (503 with the same report when one does not)', tag: 'health', access: 'public', alsoStatus: [503],
      response: z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.string()) }),
      handler: async ({ reply }) => {
        const checks: Record<string, string> = {};
        // Each probe has its own bound: a store stuck on a long statement makes the answer
        // not_ready within seconds instead of holding the probe (and the kubelet) open.
        const probe = async (name: string, fn: () => Promise<unknown>) => {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
          });
          try {
            await Promise.race([fn(), late]);
            checks[name] = 'ok';
          } catch (err) {
            checks[name] = describeError(err);
          } finally {
            clearTimeout(timer);
          }
        };
        await Promise.all([
          probe('metadata', () => ctx.services.metadata.runs.list({ limit: 1 })),
          probe('warehouse', () => ctx.services.warehouse.query('SELECT 1')),
        ]);
        const ok = Object.values(checks).every((v) => v === 'ok');
        if (!ok) reply.code(503);
        return { status: ok ? ('ready' as const) : ('not_ready' as const), checks };
      },
    }),
    route({
      method: 'GET', path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics', tag: 'health', access: 'public',
      produces: 'text/plain; version=0.0.4', response: z.string(),
      handler: async () => ctx.services.metrics.render(),
    }),
  ];
}
