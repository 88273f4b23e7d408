import type { DataTopics } from '../ports/data-topics.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import { loadPipelines, type PipelineRegistry } from '../runtime/pipeline-registry.ts';
import type { Logger } from '../runtime/services.ts';
import { Worker } from '../runtime/worker.ts';
import type { SluiceConfig } from './config.ts';
import { openObjects } from './open-services.ts';
import { sourcePolicyOf } from './source-policy.ts';

export interface StartWorkerOptions {
  readonly id: string;
  readonly slots: number;
  readonly config: SluiceConfig;
  /** Closed with the worker. */
  readonly bus: EventBus;
  /** Closed with the worker. */
  readonly topics: DataTopics;
  /** Closed with the worker. */
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  readonly graceMs?: number;
  /** False for a pod's one-shot worker: it runs the attempt it was given and takes no starts. */
  readonly shared?: boolean;
}

export interface RunningWorker {
  readonly worker: Worker;
  /** What it runs; `reload()` loads the directories again and keeps the versions it had. */
  readonly registry: PipelineRegistry;
  /** Stops taking work, cancels what runs (bounded by the grace period), closes the adapters. */
  close(): Promise<void>;
}

/** Loads the pipelines and starts a Worker on the given bus and warehouse. */
export async function startWorker(o: StartWorkerOptions): Promise<RunningWorker> {
  const objects = await openObjects(o.config);
  const registry = await loadPipelines(o.config.pipelines);
  const worker = new Worker({
    id: o.id,
    slots: o.slots,
    // A worker serves whoever can start runs; its control plane decided the trust (the handed config) or it is restricted.
    deps: { registry, warehouse: o.warehouse, objects, bus: o.bus, topics: o.topics, heartbeatMs: o.heartbeatMs ?? o.config.heartbeatMs, sources: sourcePolicyOf(o.config, 'restricted') },
    logger: o.logger,
    graceMs: o.graceMs,
  });
  await worker.start({ shared: o.shared });
  let closing: Promise<void> | null = null;
  return {
    worker,
    registry,
    close() {
      closing ??= (async () => {
        await worker.close();
        await Promise.allSettled([o.bus.close(), o.topics.close(), o.warehouse.close(), objects.close()]);
      })();
      return closing;
    },
  };
}

