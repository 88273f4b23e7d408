import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Coordinator } from '../runtime/coordinator.ts';
import type { PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { SafeQuery } from '../runtime/safe-query/safe-query.ts';
import type { Services } from '../runtime/services.ts';
import { buildApp, type Principal } from './app.ts';
import { BackfillManager } from './backfill-manager.ts';
import { assetRoutes } from './routes/assets.ts';
import { gaugeRoutes } from './routes/gauges.ts';
import { backfillRoutes } from './routes/backfills.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { queryRoutes } from './routes/query.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { streamRoutes } from './routes/streams.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { workerRoutes } from './routes/workers.ts';
import type { ServerContext } from './server-context.ts';
import { EventPages } from './sse/event-pages.ts';
import type { SseBounds } from './sse/sse-writer.ts';
import { StreamLimiter, type StreamCaps } from './sse/stream-limiter.ts';

/** Event stream limits; the defaults are those of `sse` in src/presets/config.ts. */
export type SseLimits = SseBounds & StreamCaps & {
  /** A stream is ended after this long; the client reconnects with Last-Event-ID. */
  readonly maxStreamMs: number;
};

const SSE_DEFAULTS: SseLimits = { maxBufferedBytes: 1 << 20, stallMs: 30_000, maxStreamMs: 3_600_000, maxStreamsPerToken: 8, maxStreams: 256 };

export interface ApiOptions {
  readonly services: Services;
  readonly registry: PipelineRegistry;
  readonly reloadPipelines?: ServerContext['reloadPipelines'];
  readonly coordinator: Coordinator;
  /** The backfills the API reports on; given when others (the demo seeding) start them too. */
  readonly backfills?: BackfillManager;
  readonly query: SafeQuery;
  readonly version: string;
  authenticate(header: string | undefined): Promise<Principal>;
  readonly workers?: ServerContext['workers'];
  readonly sse?: SseLimits;
  /** Calls without a token are served (local-dev mode). */
  readonly anonymous?: boolean;
  /** Runs first on every request and throws to refuse it. */
  guard?(request: FastifyRequest): void;
  /** The built web UI to serve at /; none when undefined. */
  readonly uiDir?: string;
}

/** The control plane's HTTP API over a running coordinator. */
export function createApi(options: ApiOptions): FastifyInstance {
  const sse = options.sse ?? SSE_DEFAULTS;
  const ctx: ServerContext = {
    services: options.services,
    registry: options.registry,
    reloadPipelines: options.reloadPipelines,
    coordinator: options.coordinator,
    backfills: options.backfills ?? new BackfillManager(options.services, options.registry, options.coordinator),
    query: options.query,
    startedAt: new Date().toISOString(),
    version: options.version,
    workers: options.workers,
    streams: {
      limiter: new StreamLimiter(sse, options.services.metrics),
      pages: new EventPages(options.services.metadata.runs),
      bounds: sse,
      maxStreamMs: sse.maxStreamMs,
    },
  };
  const routes = [
    ...healthRoutes(ctx),
    ...pipelineRoutes(ctx),
    ...runRoutes(ctx),
    ...streamRoutes(ctx),
    ...backfillRoutes(ctx),
    ...eventRoutes(ctx),
    ...assetRoutes(ctx),
    ...queryRoutes(ctx),
    ...tokenRoutes(ctx),
    ...scheduleRoutes(ctx),
    ...workerRoutes(ctx),
    ...gaugeRoutes(ctx),
  ];
  return buildApp({
    routes, authenticate: options.authenticate, version: options.version, logger: options.services.logger,
    anonymous: options.anonymous, guard: options.guard, uiDir: options.uiDir,
  });
}
