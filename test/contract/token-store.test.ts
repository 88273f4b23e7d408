import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import { postgresSuite } from '../helpers/postgres-suite.ts';
import { tokenStoreContract } from './token-store.contract.ts';

tokenStoreContract('PGlite in memory', () => createPgliteMetadataStore());

await postgresSuite('TokenStore contract: PostgreSQL', ({ connectionString, schema, admin }) => {

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
});
