import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { IpcHost } from '../../src/adapters/ipc/ipc-host.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';

const CHILD = fileURLToPath(new URL('../fixtures/warehouse-ipc-child.ts', import.meta.url));

// The contract runs inside the forked child, where a worker's IpcWarehouse lives; this
// process hosts the bridge and the real chDB, and the child's exit code is the verdict.
test('the Warehouse contract holds across the IPC bridge of a forked worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-warehouse-ipc-'));
  const bus = createMemoryBus();
  const warehouse = createChdbWarehouse({ path: join(dir, 'chdb') });
  // Without the runner's context variable the child reports in text, as a run of its own.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const child = fork(CHILD, [], { execArgv: [], env, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const host = new IpcHost({ child, bus, warehouse });
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, `the contract failed in the child:\n${output.slice(-4000)}`);
    assert.match(output, /ℹ pass 7\b/, 'the child ran the whole contract');
    assert.match(output, /fail 0/);
  } finally {
    clearTimeout(timer);
    await host.close();
    await warehouse.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
