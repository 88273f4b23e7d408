import pg from 'pg';

/**
 * Connects once and reads who and what the server is, and whether the metadata schema is
 * there; changes nothing. Throws what the driver says when the server cannot be reached,
 * refuses the login, or does not answer within `timeoutMs`.
 */
export async function probePostgres(o: { connectionString: string; schema: string; timeoutMs: number }): Promise<string> {
  const client = new pg.Client({ connectionString: o.connectionString, connectionTimeoutMillis: o.timeoutMs, query_timeout: o.timeoutMs, statement_timeout: o.timeoutMs });
  // A socket error after connect would otherwise be an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ who: string; version: string; migrated: boolean }>(
      `SELECT current_user AS who, current_setting('server_version') AS version,
              EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1) AS migrated`,
      [o.schema],
    );
    const r = rows[0]!;
    return `PostgreSQL ${r.version.split(' ')[0]} as ${r.who}; schema ${o.schema} ${r.migrated ? 'exists' : 'does not exist yet (sluice migrate creates it)'}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
