import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { SqlMetadataStore } from '../sql-metadata/sql-metadata-store.ts';
import type { SqlClient, SqlExecutor } from '../sql-metadata/sql-client.ts';

export type PgliteMetadataStoreOptions =
  /** `dataDir` undefined keeps everything in memory; a directory is created if missing. */
  | { readonly dataDir?: string }
  /** A shared instance: the store uses it and leaves it open. */
  | { readonly db: PGlite };

function executor(db: PGlite | Transaction): SqlExecutor {
  return {
    query: async <T>(sql: string, params: readonly unknown[] = []) => db.query<T>(sql, [...params]),
    exec: async (sql: string) => {
      await db.exec(sql);
    },
  };
}

function pgliteClient(db: PGlite, owned: boolean): SqlClient {
  let closing: Promise<void> | undefined;
  return {
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    close: () => {
      if (!owned) return Promise.resolve();
      closing ??= db.closed ? Promise.resolve() : db.close();
      return closing;
    },
  };
}

/**
 * The embedded MetadataStore: PostgreSQL compiled to WASM, in memory or in a directory.
 * Only one store may open a given directory at a time.
 *
 * @example
 * const store = await createPgliteMetadataStore({ dataDir: '.sluice/metadata' });
 * await store.migrate();
 */
export async function createPgliteMetadataStore(
  options: PgliteMetadataStoreOptions = {},
): Promise<MetadataStore> {
  if ('db' in options) {
    await options.db.waitReady;
    return new SqlMetadataStore(pgliteClient(options.db, false));
  }
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  return new SqlMetadataStore(pgliteClient(db, true));
}
