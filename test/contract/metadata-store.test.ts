import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import { MIGRATIONS } from '../../src/adapters/sql-metadata/migrations.ts';
import { postgresSuite } from '../helpers/postgres-suite.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';

const TABLES = ['api_tokens', 'attempts', 'check_results', 'events', 'gauges', 'leader_epoch', 'materializations', 'runs',
  'schedule_states', 'schedule_ticks', 'schema_migrations', 'steps', 'stream_offsets'];

/**
 * A database as version 3 left it, holding a run and a gauge: what a store of an earlier
 * release upgrades from.
 */
async function seedVersion3(exec: (sql: string) => Promise<unknown>): Promise<void> {
  await exec('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
    await exec(m.sql);
    await exec(`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, '${m.name}')`);
  }
  await exec(`INSERT INTO runs (id, pipeline, params, status, created_at, updated_at) VALUES ('old-run', 'p', '{}', 'failed', now(), now())`);
  await exec(`INSERT INTO attempts (id, run_id, step, attempt, status, started_at, error, rows_written) VALUES ('old-att', 'old-run', 's', 1, 'failed', now(), 'boom', 0)`);
  await exec(`INSERT INTO gauges (name, labels, help, value, updated_at) VALUES ('old_gauge', '{}', 'h', 2, now())`);
}

/** After the upgrade the old rows read with the new fields empty, and the new fields work. */
async function checkUpgraded(store: Awaited<ReturnType<typeof createPgliteMetadataStore>>): Promise<void> {
  await store.migrate();
  await store.migrate();
  const old = await store.runs.get('old-run');
  assert.equal(old?.run.status, 'failed');
  assert.deepEqual([old?.run.parentRunId, old?.run.rootRunId], [null, null]);
  assert.deepEqual(old?.attempts.map((a) => [a.error, a.failure]), [['boom', null]]);
  assert.equal((await store.gauges.list()).find((g) => g.name === 'old_gauge')?.kind, 'gauge');
  const retry = await store.runs.create({ id: 'retry-run', pipeline: 'p', partition: null, params: {}, parentRunId: 'old-run', rootRunId: 'old-run' });
  assert.equal(retry.parentRunId, 'old-run');
}

metadataStoreContract('PGlite in memory', () => createPgliteMetadataStore());

const dir = await mkdtemp(join(tmpdir(), 'sluice-pglite-'));
after(() => rm(dir, { recursive: true, force: true }));
// A nested path that does not exist yet: the adapter creates it.
const openDir = () => createPgliteMetadataStore({ dataDir: join(dir, 'nested', 'metadata') });
metadataStoreContract('PGlite in a directory', openDir, openDir);

describe('PGlite metadata store', () => {
  it('uses an injected instance and leaves it open', async () => {
    const db = await PGlite.create();
    try {
      const store = await createPgliteMetadataStore({ db });
      await store.migrate();
      await store.runs.create({ id: 'r1', pipeline: 'p', partition: null, params: {} });
      await store.close();
      assert.equal(db.closed, false);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
      assert.deepEqual(rows, [{ n: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('upgrades a version 3 database in place, keeping its data', async () => {
    const db = await PGlite.create();
    try {
      await seedVersion3((sql) => db.exec(sql));
      const store = await createPgliteMetadataStore({ db });
      await checkUpgraded(store);
      await store.close();
    } finally {
      await db.close();
    }
  });

  it('closes the instance it created, once', async () => {
    const store = await createPgliteMetadataStore();
    await store.migrate();
    await store.close();
    await store.close();
    await assert.rejects(store.runs.list(), /closed/);
  });
});

await postgresSuite('MetadataStore contract: PostgreSQL', ({ connectionString, schema, admin, extraSchema }) => {
  const injectedSchema = extraSchema('inj');

  const openPg = () => createPostgresMetadataStore({ connectionString, schema });
  metadataStoreContract('PostgreSQL', openPg, openPg);

  describe('PostgreSQL metadata store', () => {
    it('creates its schema and tables there, recording each migration once', async () => {
      const store = await openPg();
      await store.migrate();
      await store.migrate();
      await store.close();
      const tables = await admin.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
      assert.deepEqual(tables.rows.map((r) => r.table_name), TABLES);
      const versions = await admin.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      assert.deepEqual(versions.rows, MIGRATIONS.map((m) => ({ version: m.version })).sort((a, b) => a.version - b.version));
    });

    it('fences: once a second control plane claims the leadership, the first one\'s writes fail and write nothing', async () => {
      const schemaF = extraSchema('fence');
      const first = await createPostgresMetadataStore({ connectionString, schema: schemaF });
      const second = await createPostgresMetadataStore({ connectionString, schema: schemaF });
      try {
        await first.migrate();
        const heard: Error[] = [];
        const e1 = await first.claimLeadership((err) => heard.push(err));
        await first.runs.create({ id: 'r1', pipeline: 'p', partition: null, params: {} });
        const change = (status: 'running' | 'failed') => ({ runs: [{ id: 'r1', status, startedAt: new Date().toISOString() }] });
        await first.write(change('running'));
        const e2 = await second.claimLeadership(() => assert.fail('the new leader is not fenced'));
        assert.equal(e2, e1 + 1);
        await assert.rejects(first.write(change('failed')), (err: Error) =>
          err.name === 'FencedError' && err.message === `another control plane leads since epoch ${e2} (this one led epoch ${e1}); nothing was written`);
        assert.equal(heard.length, 1, 'the fenced process hears of it');
        assert.equal((await second.runs.get('r1'))?.run.status, 'running', 'the fenced write changed nothing');
        await second.write(change('failed'));
        assert.equal((await second.runs.get('r1'))?.run.status, 'failed');
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('uses an injected pool in its own schema and leaves the pool open and unchanged', async () => {
      const pool = new pg.Pool({ connectionString, max: 1 });
      try {
        const before = await pool.query<{ search_path: string }>('SHOW search_path');
        const store = await createPostgresMetadataStore({ pool, schema: injectedSchema });
        await store.migrate();
        await store.runs.create({ id: 'r1', pipeline: 'p', partition: null, params: {} });
        await store.gauges.put([{ name: 'g', help: 'h', labels: {}, value: 1, updatedAt: new Date().toISOString() }]);
        assert.equal((await store.runs.list()).length, 1);
        await store.close();
        assert.deepEqual((await pool.query('SHOW search_path')).rows, before.rows);
        const runs = await pool.query(`SELECT id FROM "${injectedSchema}".runs`);
        assert.deepEqual(runs.rows, [{ id: 'r1' }]);
        const elsewhere = await admin.query(`SELECT id FROM "${schema}".runs WHERE id = 'r1'`);
        assert.equal(elsewhere.rowCount, 0, 'schemas are isolated');
      } finally {
        await pool.end();
      }
    });

    it('upgrades a version 3 schema in place, keeping its data', async () => {
      const old = extraSchema('v3');
      const client = await admin.connect();
      try {
        await client.query(`CREATE SCHEMA "${old}"`);
        await client.query(`SET search_path TO "${old}"`);
        await seedVersion3((sql) => client.query(sql));
      } finally {
        await client.query('RESET search_path');
        client.release();
      }
      const store = await createPostgresMetadataStore({ connectionString, schema: old });
      try {
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    });

    it('refuses a schema name that would need quoting', async () => {
      await assert.rejects(createPostgresMetadataStore({ connectionString, schema: 'Bad-Name' }), { code: 'validation' });
    });
  });
});
