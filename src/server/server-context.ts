import type { Coordinator } from '../runtime/coordinator.ts';
import type { PipelineRegistry, ReloadChanges } from '../runtime/pipeline-registry.ts';
import type { SafeQuery } from '../runtime/safe-query/safe-query.ts';
import type { Services } from '../runtime/services.ts';
import type { BackfillManager } from './backfill-manager.ts';
import type { EventPages } from './sse/event-pages.ts';
import type { SseBounds } from './sse/sse-writer.ts';
import type { StreamLimiter } from './sse/stream-limiter.ts';

/** What route handlers may use. */
export interface ServerContext {
  readonly services: Services;
  readonly registry: PipelineRegistry;
  /** Reloads the definitions everywhere (this process and its workers); default: the registry only. */
  readonly reloadPipelines?: () => Promise<ReloadChanges>;
  readonly coordinator: Coordinator;
  readonly backfills: BackfillManager;
  /** Untrusted SQL, parser-checked and limited. */
  readonly query: SafeQuery;
  readonly startedAt: string;
  readonly version: string;
  /** The warm worker processes, when this control plane has a pool. */
  readonly workers?: () => readonly { id: string; pid: number | null; alive: boolean; ready: boolean; running: readonly string[]; restarts: number }[];
  /** What event streams share: their caps, the pages they read, each client's bounds, their lifetime. */
  readonly streams: { readonly limiter: StreamLimiter; readonly pages: EventPages; readonly bounds: SseBounds; readonly maxStreamMs: number };
}
