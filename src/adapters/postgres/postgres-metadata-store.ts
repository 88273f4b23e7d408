import pg from 'pg';
import { ValidationError } from '../../core/errors.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { SqlMetadataStore } from '../sql-metadata/sql-metadata-store.ts';
import type { SqlClient, SqlExecutor } from '../sql-metadata/sql-client.ts';

export type PostgresMetadataStoreOptions =
  /** The store creates a pool and ends it on close. `schema` defaults to `public`. */
  | { readonly connectionString: string; readonly schema?: string }
  /**
   * A shared pool, left open on close. Without `schema` the pool's own search_path is
   * used; with one, each operation sets it and resets it, so other users of the pool
   * are not affected.
   */
  | { readonly pool: pg.Pool; readonly schema?: string };

// Lowercase only: an unquoted search_path entry is folded to lowercase, so anything
// else would name a different schema in `-c search_path` than in CREATE SCHEMA.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DUPLICATE_SCHEMA = '42P06';

type Queryable = pg.Pool | pg.PoolClient;

function executor(db: Queryable): SqlExecutor {
  return {
    query: async <T>(sql: string, params: readonly unknown[] = []) => {
      const result = await db.query(sql, [...params]);
      return { rows: result.rows as T[] };
    },
    exec: async (sql: string) => {
      await db.query(sql);
    },
  };
}

/** Checks a client out, points it at `schema` for the duration of `fn`, and puts it back clean. */
async function withClient<T>(pool: pg.Pool, schema: string | undefined, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    if (schema !== undefined) await client.query(`SET search_path TO "${schema}"`);
    return await fn(client);
  } finally {
    if (schema !== undefined) {
      await client.query('RESET search_path').catch((err: Error) => {
        broken = err;
      });
    }
    // A client whose session could not be restored must not go back to a shared pool.
    client.release(broken);
  }
}

function postgresClient(pool: pg.Pool, owned: boolean, perCheckoutSchema: string | undefined): SqlClient {
  const direct = executor(pool);
  let closing: Promise<void> | undefined;
  const base: SqlExecutor = perCheckoutSchema === undefined ? direct : {
    query: (sql, params) => withClient(pool, perCheckoutSchema, (c) => executor(c).query(sql, params)),
    exec: (sql) => withClient(pool, perCheckoutSchema, (c) => executor(c).exec(sql)),
  };
  return {
    ...base,
    transaction: (fn) => withClient(pool, perCheckoutSchema, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }),
    close: () => {
      if (!owned) return Promise.resolve();
      closing ??= pool.end();
      return closing;
    },
  };
}

async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  // Checked first because CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database.
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (rows.length > 0) return;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).catch((err: { code?: string }) => {
    if (err.code !== DUPLICATE_SCHEMA) throw err;
  });
}

/**
 * The cluster MetadataStore on PostgreSQL through `pg`. Creates `schema` if missing;
 * call `migrate()` to create the tables in it.
 *
 * @example
 * const store = await createPostgresMetadataStore({ connectionString: url, schema: 'sluice' });
 * await store.migrate();
 */
export async function createPostgresMetadataStore(options: PostgresMetadataStoreOptions): Promise<MetadataStore> {
  const owned = !('pool' in options);
  const schema = options.schema ?? (owned ? 'public' : undefined);
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ValidationError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`, 'schema');
  }
  const pool = 'pool' in options
    ? options.pool
    : new pg.Pool({ connectionString: options.connectionString, options: `-c search_path=${schema}` });
  // An idle client dying (server restart) is reported by the next query; without a
  // listener the pool's 'error' event would crash the process instead.
  if (owned) pool.on('error', () => undefined);
  try {
    if (schema !== undefined) await ensureSchema(pool, schema);
  } catch (err) {
    if (owned) await pool.end();
    throw err;
  }
  return new SqlMetadataStore(postgresClient(pool, owned, owned ? undefined : schema));
}
