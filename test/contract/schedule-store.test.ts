import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import { postgresSuite } from '../helpers/postgres-suite.ts';
import { scheduleStoreContract } from './schedule-store.contract.ts';

scheduleStoreContract('PGlite in memory', () => createPgliteMetadataStore());

await postgresSuite('ScheduleStore contract: PostgreSQL', ({ connectionString, schema }) => {
  const openPg = () => createPostgresMetadataStore({ connectionString, schema });
  scheduleStoreContract('PostgreSQL', openPg, openPg);
});
