import type { FastifyInstance } from 'fastify';
import type { Coordinator } from '../runtime/coordinator.ts';
import type { PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { Services } from '../runtime/services.ts';
import { buildApp, type Principal } from './app.ts';
import { BackfillManager } from './backfill-manager.ts';
import { assetRoutes } from './routes/assets.ts';
import { backfillRoutes } from './routes/backfills.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { queryRoutes } from './routes/query.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { workerRoutes } from './routes/workers.ts';
import type { ServerContext } from './server-context.ts';

export interface ApiOptions {
  readonly services: Services;
  readonly registry: PipelineRegistry;
  readonly coordinator: Coordinator;
  readonly version: string;
  authenticate(header: string | undefined): Promise<Principal>;
  readonly workers?: ServerContext['workers'];
}

/** The control plane's HTTP API over a running coordinator. */
export function createApi(options: ApiOptions): FastifyInstance {
  const ctx: ServerContext = {
    services: options.services,
    registry: options.registry,
    coordinator: options.coordinator,
    backfills: new BackfillManager(options.services, options.registry, options.coordinator),
    startedAt: new Date().toISOString(),
    version: options.version,
    workers: options.workers,
  };
  const routes = [
    ...healthRoutes(ctx),
    ...pipelineRoutes(ctx),
    ...runRoutes(ctx),
    ...backfillRoutes(ctx),
    ...eventRoutes(ctx),
    ...assetRoutes(ctx),
    ...queryRoutes(ctx),
    ...tokenRoutes(ctx),
    ...scheduleRoutes(ctx),
    ...workerRoutes(ctx),
  ];
  return buildApp({ routes, authenticate: options.authenticate, version: options.version });
}
