import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../core/errors.ts';
import { isTerminalRun, type RunStatus } from '../core/states.ts';
import { backfillCounts, backfillRunOk, planBackfill, runBackfill, type BackfillRequest } from '../runtime/backfill.ts';
import type { Coordinator } from '../runtime/coordinator.ts';
import type { PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { Services } from '../runtime/services.ts';

export interface BackfillStatus {
  id: string;
  pipeline: string;
  from: string;
  to: string;
  concurrency: number;
  status: 'running' | 'succeeded' | 'failed';
  createdAt: string;
  /** The runs by outcome: `failed` includes cancelled ones, `pending` those not ended yet. */
  counts: { succeeded: number; noData: number; failed: number; pending: number };
  partitions: { partition: string; status: RunStatus | 'pending'; runId: string | null; error: string | null }[];
}

/**
 * Starts backfills in the background and reports their progress per partition from the
 * runs they created (the runs table is the source of truth; this only remembers ranges).
 */
export class BackfillManager {
  readonly #known = new Map<string, { req: Required<Pick<BackfillRequest, 'pipeline' | 'from' | 'to'>> & { concurrency: number }; keys: readonly string[]; createdAt: string; done: boolean; failed: boolean }>();
  readonly #coordinator: Coordinator;
  readonly #registry: PipelineRegistry;
  readonly #services: Services;

  constructor(services: Services, registry: PipelineRegistry, coordinator: Coordinator) {
    this.#services = services;
    this.#registry = registry;
    this.#coordinator = coordinator;
  }

  /**
   * Validates and starts; returns once every partition is known (runs start in the
   * background). `onDone` hears the final status once every run has ended.
   */
  async start(req: BackfillRequest, onDone?: (status: BackfillStatus) => void): Promise<BackfillStatus> {
    // Range, limit, concurrency and partitioning are refused here, before 202 and before any run.
    const plan = planBackfill(this.#registry, req);
    const id = randomUUID();
    const entry = { req: { pipeline: req.pipeline, from: req.from, to: req.to, concurrency: plan.concurrency }, keys: plan.keys, createdAt: new Date().toISOString(), done: false, failed: false };
    // What fails at the first run's submit (its params) still answers the request.
    const running = runBackfill(this.#coordinator, this.#registry, { ...req, backfillId: id }, undefined, plan);
    const early = await Promise.race([running.then(() => null, (e: unknown) => e), new Promise((r) => setImmediate(r, null))]);
    if (early) throw early;
    this.#known.set(id, entry);
    running.then(
      (r) => {
        entry.done = true;
        entry.failed = r.partitions.some((p) => !backfillRunOk(p.detail.run.status));
      },
      (err: unknown) => {
        entry.done = true;
        entry.failed = true;
        this.#services.logger.error({ err: String(err) }, `backfill ${id} stopped`);
      },
    ).then(() => (onDone ? this.status(id).then(onDone) : undefined)).catch(() => undefined);
    return this.status(id);
  }

  async status(id: string): Promise<BackfillStatus> {
    const entry = this.#known.get(id);
    if (!entry) throw new NotFoundError('backfill', id);
    const runs = await this.#services.metadata.runs.list({ backfillId: id, limit: 10_000 });
    const byPartition = new Map(runs.map((r) => [r.partition, r]));
    const partitions = entry.keys.map((k) => {
      const r = byPartition.get(k);
      return { partition: k, status: r?.status ?? ('pending' as const), runId: r?.id ?? null, error: r?.error ?? null };
    });
    const ended = partitions.filter((p) => p.status !== 'pending' && isTerminalRun(p.status)).map((p) => p.status);
    return {
      id, ...entry.req, createdAt: entry.createdAt,
      counts: { ...backfillCounts(ended), pending: partitions.length - ended.length },
      status: !entry.done ? 'running' : entry.failed ? 'failed' : 'succeeded',
      partitions,
    };
  }
}
