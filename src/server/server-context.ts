import type { Coordinator } from '../runtime/coordinator.ts';
import type { PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { Services } from '../runtime/services.ts';
import type { BackfillManager } from './backfill-manager.ts';

/** What route handlers may use. */
export interface ServerContext {
  readonly services: Services;
  readonly registry: PipelineRegistry;
  readonly coordinator: Coordinator;
  readonly backfills: BackfillManager;
  readonly startedAt: string;
  readonly version: string;
  /** The warm worker processes, when this control plane has a pool. */
  readonly workers?: () => readonly { id: string; pid: number | null; alive: boolean; ready: boolean; running: readonly string[]; restarts: number }[];
}
