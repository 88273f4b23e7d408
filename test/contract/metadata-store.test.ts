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

const TABLES = ['api_tokens', 'attempts', 'check_results', 'checkpoints', 'events', 'gauges', 'materializations', 'runs',
  'schedule_states', 'schedule_ticks', 'schema_migrations', 'steps'];

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
      await store.createRun({ id: 'r1', pipeline: 'p', partition: null, params: {} });
      await store.close();
      assert.equal(db.closed, false);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
      assert.deepEqual(rows, [{ n: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('closes the instance it created, once', async () => {
    const store = await createPgliteMetadataStore();
    await store.migrate();
    await store.close();
    await store.close();
    await assert.rejects(store.listRuns());
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

    it('uses an injected pool in its own schema and leaves the pool open and unchanged', async () => {
      const pool = new pg.Pool({ connectionString, max: 1 });
      try {
        const before = await pool.query<{ search_path: string }>('SHOW search_path');
        const store = await createPostgresMetadataStore({ pool, schema: injectedSchema });
        await store.migrate();
        await store.createRun({ id: 'r1', pipeline: 'p', partition: null, params: {} });
        await store.putGauges([{ name: 'g', help: 'h', labels: {}, value: 1, updatedAt: new Date().toISOString() }]);
        assert.equal((await store.listRuns()).length, 1);
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

    it('refuses a schema name that would need quoting', async () => {
      await assert.rejects(createPostgresMetadataStore({ connectionString, schema: 'Bad-Name' }), { code: 'validation' });
    });
  });
});
