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
 * The label that tells the chart's Service which replica leads, when the config knows this
 * process's pod (`pod`); null outside Kubernetes.
 */
export async function leaderLabelOf(config: SluiceConfig): Promise<{ set(leader: boolean): Promise<void> } | null> {
  if (!config.pod) return null;
  const { podLeaderLabel } = await import('../adapters/kubernetes/pod-leader-label.ts');
  return podLeaderLabel({ kubeconfig: config.pod.kubeconfig ?? null, namespace: config.pod.namespace, name: config.pod.name });
}

/**
 * What a standby answers on the API's port while it waits: alive (`/healthz` 200); ready
 * (`/readyz`) only when its pod is labelled standby, so the Service that selects the leader
 * sends it no traffic while rollouts and disruption budgets count it. Elsewhere 503: nothing
 * else keeps traffic away from it.
 */
export function standbyHealth(host: string, port: number, ready: boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const ok = path === '/healthz' || (path === '/readyz' && ready);
    const body = ok ? { status: 'ok', role: 'standby' } : { status: 'standby', detail: 'another control plane leads; this one takes over when it goes' };
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  server.requestTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
