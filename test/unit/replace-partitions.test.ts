import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { replacePartitions } from '../../src/sdk/replace-partitions.ts';
import { tempHome } from '../helpers/runtime.ts';

const dir = tempHome();
const wh = createChdbWarehouse({ path: `${dir.home}/wh` });
after(async () => {
  await wh.close();
  dir.cleanup();
});

const count = async () => Number((await wh.query<{ n: number }>('SELECT count() AS n FROM t.days'))[0].n);

test('rerunning a day replaces it; days absent from the new data are dropped', async () => {
  await wh.command('CREATE DATABASE IF NOT EXISTS t');
  await wh.command('CREATE TABLE IF NOT EXISTS t.days (day Date, v UInt32) ENGINE = MergeTree PARTITION BY day ORDER BY v');
  const fill = (rows: string) => (tmp: string) => wh.command(`INSERT INTO ${tmp} VALUES ${rows}`);
  const w = { runId: 'r1', attempt: 1 };
  await replacePartitions(wh, { table: 't.days', column: 'day', days: [], writer: w, fill: fill("('2024-01-01',1),('2024-01-02',2)") });
  await replacePartitions(wh, { table: 't.days', column: 'day', days: [], writer: w, fill: fill("('2024-01-01',1),('2024-01-02',2)") });
  assert.equal(await count(), 2);
  await replacePartitions(wh, { table: 't.days', column: 'day', days: ['2024-01-02'], writer: w, fill: fill("('2024-01-01',7)") });
  assert.deepEqual(await wh.query('SELECT toString(day) AS day, v FROM t.days ORDER BY day'), [{ day: '2024-01-01', v: 7 }]);
});

test('a late write of a fenced-off attempt never lands in the retry\'s data', async () => {
  await wh.command('TRUNCATE TABLE t.days');
  let releaseZombie!: () => void;
  const zombieMayWrite = new Promise<void>((r) => (releaseZombie = r));
  let zombieWrote!: () => void;
  const zombieDone = new Promise<void>((r) => (zombieWrote = r));
  // Attempt 1 is lost mid-fill; its insert still reaches the engine later.
  const zombie = replacePartitions(wh, {
    table: 't.days', column: 'day', days: ['2024-01-01'], writer: { runId: 'r2', attempt: 1 },
    fill: async (tmp) => {
      await zombieMayWrite;
      try {
        await wh.command(`INSERT INTO ${tmp} SELECT '2024-01-01', number FROM numbers(100)`);
      } finally {
        zombieWrote();
      }
    },
  });
  zombie.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  // Attempt 2 of the same run does the work; the zombie writes while it is in the middle.
  await replacePartitions(wh, {
    table: 't.days', column: 'day', days: ['2024-01-01'], writer: { runId: 'r2', attempt: 2 },
    fill: async (tmp) => {
      await wh.command(`INSERT INTO ${tmp} SELECT '2024-01-01', number FROM numbers(100)`);
      releaseZombie();
      await zombieDone;
    },
  });
  await zombie.catch(() => undefined);
  assert.equal(await count(), 100);
  const left = await wh.query("SELECT name FROM system.tables WHERE database = 't' AND name LIKE 'days__w_%'");
  assert.deepEqual(left, []);
});

test('two deliveries of the same attempt at once each swap in complete data, nothing doubled', async () => {
  await wh.command('TRUNCATE TABLE t.days');
  const w = { runId: 'r3', attempt: 1 };
  const fill = (tmp: string) => wh.command(`INSERT INTO ${tmp} SELECT '2024-01-01', number FROM numbers(100)`);
  await Promise.all([1, 2].map(() => replacePartitions(wh, { table: 't.days', column: 'day', days: ['2024-01-01'], writer: w, fill })));
  assert.equal(await count(), 100);
});
