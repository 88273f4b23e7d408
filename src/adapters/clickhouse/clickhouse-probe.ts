import { ClickHouseLogLevel, createClient } from '@clickhouse/client';

/** Asks the server who we are and what it runs; changes nothing. Throws on refusal or after `timeoutMs`. */
export async function probeClickHouse(o: { url: string; timeoutMs: number }): Promise<string> {
  const client = createClient({ url: o.url, request_timeout: o.timeoutMs, log: { level: ClickHouseLogLevel.OFF } });
  try {
    const rs = await client.query({ query: 'SELECT version() AS version, currentUser() AS who', format: 'JSONEachRow' });
    const [r] = await rs.json<{ version: string; who: string }>();
    return `ClickHouse ${r?.version} as ${r?.who}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}
