import { createServer, type Server } from 'node:http';
import type { LeaderLock } from '../adapters/postgres/postgres-leader-lock.ts';
import type { SluiceConfig } from './config.ts';

/** How often a standby control plane tries for the leadership (and the leader checks it still has it). */
const LEADER_POLL_MS = 1_000;

/**
 * Waits until this process leads the control plane of its metadata store, so two replicas
 * never run the same runs: one is active, the others stand by and take over (with the runs
 * left unfinished) when it dies. Only a shared PostgreSQL can have several control planes;
 * with PGlite there is nothing to wait for (null). Resolves null too when `signal` fires.
 */
export async function waitForLeadership(config: SluiceConfig, o: { onStandby: () => void; signal: AbortSignal }): Promise<LeaderLock | 'single' | null> {
  if (config.metadata.kind !== 'postgres') return 'single';
  const { acquirePostgresLeaderLock } = await import('../adapters/postgres/postgres-leader-lock.ts');
  return acquirePostgresLeaderLock({
    connectionString: config.metadata.url, name: config.metadata.schema, pollMs: LEADER_POLL_MS, onStandby: o.onStandby, signal: o.signal,
  });
}

/**
 * What a standby answers on the API's port while it waits: alive (`/healthz` 200) but not
 * ready (`/readyz` 503), so Kubernetes keeps it and sends it no traffic.
 */
export function standbyHealth(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const body = path === '/healthz' ? { status: 'ok', role: 'standby' } : { status: 'standby', detail: 'another control plane leads; this one takes over when it goes' };
    res.writeHead(path === '/healthz' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  server.requestTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
