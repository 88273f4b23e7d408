import { after, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import { service } from '../helpers/services.ts';
import { tokenStoreContract } from './token-store.contract.ts';

tokenStoreContract('PGlite in memory', () => createPgliteMetadataStore());

let url: string | undefined;
let startError: unknown;
try {
  url = await service('postgres');
} catch (err) {
  startError = err;
}

if (startError !== undefined) {
  // Reported as a failing test so the PGlite results above still show.
  test('TokenStore contract: PostgreSQL', () => {
    throw startError;
  });
} else if (url === undefined) {
  test('TokenStore contract: PostgreSQL', (t) => t.skip('PostgreSQL is not installed here (run scripts/postgres.sh install)'));
} else {
  const connectionString = url;
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Pool({ connectionString, max: 1 });
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  tokenStoreContract('PostgreSQL', () => createPostgresMetadataStore({ connectionString, schema }));

  test('PostgreSQL token store keeps only the SHA-256 hash, in its own schema', async () => {
    const store = await createPostgresMetadataStore({ connectionString, schema });
    try {
      await store.migrate();
      const hash = 'a'.repeat(64);
      const t = await store.tokens.create({ id: `tok-${randomUUID()}`, name: `n-${randomUUID()}`, role: 'admin', hash });
      const { rows } = await admin.query(`SELECT hash FROM "${schema}".api_tokens WHERE id = $1`, [t.id]);
      assert.deepEqual(rows, [{ hash }]);
    } finally {
      await store.close();
    }
  });
}
