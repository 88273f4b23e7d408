import { after, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { service } from './services.ts';

export interface PostgresSuite {
  readonly connectionString: string;
  /** A fresh schema for this file, dropped after it. */
  readonly schema: string;
  /** A pool for the test's own checks; closed after the file. */
  readonly admin: pg.Pool;
  /** Another fresh schema, also dropped after the file. */
  extraSchema(suffix: string): string;
}

/**
 * Registers `register`'s tests against the real PostgreSQL from scripts/postgres.sh, in a
 * schema of their own. When PostgreSQL is not installed the suite is skipped (a failure
 * with CI=true); when it fails to start, that failure is reported as a test, so results
 * of the other adapters in the file still show.
 */
export async function postgresSuite(title: string, register: (s: PostgresSuite) => void): Promise<void> {
  let url: string | undefined;
  try {
    url = await service('postgres');
  } catch (err) {
    test(title, () => {
      throw err;
    });
    return;
  }
  if (url === undefined) {
    test(title, (t) => t.skip('PostgreSQL is not installed here (run scripts/postgres.sh install)'));
    return;
  }
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const schemas = [schema];
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  });
  register({
    connectionString: url,
    schema,
    admin,
    extraSchema: (suffix) => {
      const s = `${schema}_${suffix}`;
      schemas.push(s);
      return s;
    },
  });
}
