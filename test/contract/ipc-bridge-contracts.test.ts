import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { createMemoryDataTopics } from '../../src/adapters/memory-topics/memory-data-topics.ts';
import { IpcHost } from '../../src/adapters/ipc/ipc-host.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';

const CHILD = fileURLToPath(new URL('../fixtures/contract-ipc-child.ts', import.meta.url));

/**
 * Runs a contract inside a forked child, where a worker's IPC adapters live; this process
 * hosts the bridge over a real memory bus and chDB, and the child's own test run is the
 * verdict (its exit code, and the count of tests it passed).
 */
async function contractAcrossBridge(contract: string, tests: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ipc-contract-'));
  const bus = createMemoryBus({ retryDelayMs: 10 });
  const warehouse = createChdbWarehouse({ path: join(dir, 'chdb') });
  const topics = createMemoryDataTopics();
  // Without the runner's context variable the child reports in text, as a run of its own.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const child = fork(CHILD, [contract], { execArgv: [], env, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const host = new IpcHost({ child, bus, warehouse, topics });
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, `the ${contract} contract failed in the child:\n${output.slice(-4000)}`);
    assert.match(output, new RegExp(`ℹ pass ${tests}\\b`), `the child ran the whole ${contract} contract:\n${output.slice(-2000)}`);
    assert.match(output, /ℹ fail 0\b/);
  } finally {
    clearTimeout(timer);
    await host.close();
    await warehouse.close();
    await bus.close();
    await topics.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the Warehouse contract holds across the IPC bridge of a forked worker', () => contractAcrossBridge('warehouse', 8));

test('the DataTopics contract holds across the IPC bridge of a forked worker', () => contractAcrossBridge('data-topics', 7));

test('the EventBus contract holds across the IPC bridge of a forked worker', () => contractAcrossBridge('event-bus', 13));
