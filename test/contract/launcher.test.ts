import { createMemoryDataTopics } from '../../src/adapters/memory-topics/memory-data-topics.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { InProcessLauncher } from '../../src/adapters/inprocess/inprocess-launcher.ts';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import { WorkerPool } from '../../src/adapters/subprocess/worker-pool.ts';
import { BUNDLED_PIPELINES, loadConfig } from '../../src/presets/config.ts';
import { sourcePolicyOf } from '../../src/presets/source-policy.ts';
import { executeAttempt } from '../../src/runtime/attempt-executor.ts';
import { BusLauncher } from '../../src/runtime/bus-launcher.ts';
import { loadPipelines } from '../../src/runtime/pipeline-registry.ts';
import { launcherContract } from './launcher.contract.ts';

const HEARTBEAT_MS = 200;
const noop = () => undefined;
const logger = { debug: noop, info: noop, warn: noop, error: noop };

launcherContract('in-process (sluice run)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sluice-launcher-'));
  const bus = createMemoryBus({ retryDelayMs: 10 });
  const warehouse = createChdbWarehouse({ path: join(home, 'warehouse') });
  const objects = createLocalObjectStore({ root: join(home, 'objects') });
  const registry = await loadPipelines([BUNDLED_PIPELINES]);
  const sources = sourcePolicyOf(loadConfig({ env: {}, cwd: process.cwd(), home }), 'trusted');
  const launcher = new InProcessLauncher((req, signal) => executeAttempt(req, { registry, warehouse, objects, bus, topics: createMemoryDataTopics(), heartbeatMs: HEARTBEAT_MS, sources }, signal));
  return {
    launcher, bus,
    close: async () => {
      await launcher.close();
      await bus.close();
      await objects.close();
      await warehouse.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
});

launcherContract('worker pool (sluice dev / sluice server)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sluice-launcher-'));
  const bus = createMemoryBus({ retryDelayMs: 10 });
  const warehouse = createChdbWarehouse({ path: join(home, 'warehouse') });
  const pool = new WorkerPool({
    size: 2, bus, bridgeBus: true, warehouse,
    worker: { home, pipelines: [BUNDLED_PIPELINES], heartbeatMs: HEARTBEAT_MS, logLevel: 'warn', graceMs: 1_000 },
    env: { PATH: process.env.PATH },
    logger, restartBackoffMs: 50, closeGraceMs: 1_000,
  });
  await pool.start();
  const launcher = new BusLauncher(bus, { kill: async (id) => void (await pool.kill(id)) });
  return {
    launcher, bus,
    close: async () => {
      await launcher.close();
      await pool.close();
      await bus.close();
      await warehouse.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
});
