import { after, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import { service } from '../helpers/services.ts';
import { scheduleStoreContract } from './schedule-store.contract.ts';

scheduleStoreContract('PGlite in memory', () => createPgliteMetadataStore());

let url: string | undefined;
let startError: unknown;
try {
  url = await service('postgres');
} catch (err) {
  startError = err;
}

if (startError !== undefined) {
  // Reported as a failing test so the PGlite results above still show.
  test('ScheduleStore contract: PostgreSQL', () => {
    throw startError;
  });
} else if (url === undefined) {
  test('ScheduleStore contract: PostgreSQL', (t) => t.skip('PostgreSQL is not installed here (run scripts/postgres.sh install)'));
} else {
  const connectionString = url;
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  after(async () => {
    const admin = new pg.Pool({ connectionString, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  const openPg = () => createPostgresMetadataStore({ connectionString, schema });
  scheduleStoreContract('PostgreSQL', openPg, openPg);
}
