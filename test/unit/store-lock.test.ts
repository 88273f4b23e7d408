import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/presets/config.ts';
import { claimStores, storeOwner, warehouseLockHolder } from '../../src/cli/store-lock.ts';
import { tempHome } from '../helpers/runtime.ts';

const dir = tempHome('sluice-lock-');
after(() => dir.cleanup());
const config = loadConfig({ env: {}, cwd: dir.home, home: dir.home });
const lock = join(dir.home, 'stores.lock');

/** A process that lives until killed, to stand for another owner. */
function sleeper() {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

test('the first claim records this process; a second process is refused naming the holder; release frees it', async () => {
  const release = claimStores(config, 'sluice run retail');
  const owner = JSON.parse(readFileSync(lock, 'utf8'));
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.command, 'sluice run retail');
  release();
  assert.ok(!existsSync(lock));

  const other = sleeper();
  try {
    writeFileSync(lock, JSON.stringify({ pid: other.pid, command: 'sluice run dummy', since: new Date().toISOString(), started: null }));
    assert.equal(storeOwner(dir.home)?.pid, other.pid);
    assert.throws(() => claimStores(config, 'sluice pipelines'), (err: Error) => err.name === 'ConflictError'
      && err.message.includes(`in use by pid ${other.pid} (sluice run dummy)`) && err.message.includes(`kill ${other.pid}`));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // Its owner is gone: the next claim takes the lock over.
  claimStores(config, 'sluice pipelines')();
});

test('a lock whose pid now belongs to another process (a different start time) is stale', () => {
  if (!existsSync('/proc/self/stat')) return;
  writeFileSync(lock, JSON.stringify({ pid: process.ppid, command: 'sluice dev', since: '2020-01-01T00:00:00Z', started: '1' }));
  assert.equal(storeOwner(dir.home), undefined);
  claimStores(config, 'sluice runs')();
});

test('chDB opened by a process that took no lock (not a sluice command) is found by its file lock and refused', async () => {
  const chdb = fileURLToPath(new URL('../../src/adapters/chdb/chdb-warehouse.ts', import.meta.url));
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    const { createChdbWarehouse } = await import(${JSON.stringify(chdb)});
    const wh = createChdbWarehouse({ path: ${JSON.stringify(join(dir.home, 'warehouse'))} });
    await wh.query('SELECT 1');
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    assert.equal(warehouseLockHolder(dir.home), holder.pid);
    assert.throws(() => claimStores(config, 'sluice demo'), (err: Error) => err.message.includes(`in use by pid ${holder.pid} (it holds the chDB lock`));
    assert.ok(!existsSync(lock), 'a refused claim leaves no lock behind');
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
  }
  assert.equal(warehouseLockHolder(dir.home), undefined);
});

test('stores that are all servers need no claim', () => {
  const cluster = loadConfig({ env: { SLUICE_METADATA_URL: 'postgres://u:p@h:5432/d', SLUICE_WAREHOUSE_URL: 'http://h:8123' }, cwd: dir.home, home: dir.home });
  const other = { pid: 1, command: 'x', since: '', started: null };
  writeFileSync(lock, JSON.stringify(other));
  claimStores(cluster, 'sluice runs')();
  assert.deepEqual(JSON.parse(readFileSync(lock, 'utf8')), other);
});
