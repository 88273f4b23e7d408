import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPostgresMetadataStore } from '../../src/adapters/postgres/postgres-metadata-store.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import { service } from '../helpers/services.ts';
import type { Bus } from './plan.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** What the control plane of a campaign runs on. */
export interface Stack {
  readonly mode: 'dev' | 'server';
  readonly env: Readonly<Record<string, string>>;
  /** An admin token (server mode); dev mode's loopback calls need none. */
  readonly token: string | undefined;
  /** The run state itself, for checks the API cannot answer; only once the control plane is stopped (PGlite has one owner). */
  openMetadata(): Promise<MetadataStore>;
  close(): Promise<void>;
}

// Heartbeats every 500 ms: a dead worker is noticed after 1.5 s, as in the fault tests.
const BASE_ENV = { SLUICE_HEARTBEAT_MS: '500', SLUICE_WORKERS: '2' };

/**
 * `memory`: `sluice dev` on the embedded stores. `kafka`: `sluice server` with run state in
 * the real PostgreSQL and the bus on the real broker of scripts/, in a schema and a topic
 * prefix of its own, dropped by `close`.
 */
export async function openStack(bus: Bus, home: string): Promise<Stack> {
  if (bus === 'memory') {
    return { mode: 'dev', env: BASE_ENV, token: undefined, openMetadata: () => createPgliteMetadataStore({ dataDir: join(home, 'metadata') }), close: async () => undefined };
  }
  const pgUrl = await service('postgres');
  const brokers = await service('kafka');
  if (!pgUrl || !brokers) throw new Error('--bus kafka needs PostgreSQL and Kafka (scripts/postgres.sh install, scripts/kafka.sh install)');
  const schema = `chaos_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const env = {
    ...BASE_ENV, SLUICE_METADATA_URL: pgUrl, SLUICE_METADATA_SCHEMA: schema, SLUICE_KAFKA_BROKERS: brokers, SLUICE_KAFKA_TOPIC_PREFIX: `${schema}.`,
  };
  const { stdout } = await run(process.execPath, ['src/cli/main.ts', '--home', home, 'token', 'create', '--role', 'admin', '--name', 'chaos'], {
    cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000,
  });
  return {
    mode: 'server',
    env,
    token: stdout.trim().split('\n').pop(),
    openMetadata: () => createPostgresMetadataStore({ connectionString: pgUrl, schema }),
    close: async () => {
      const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 10_000 });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
