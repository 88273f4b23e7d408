import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { dropSchema } from '../helpers/cleanup.ts';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { ControlPlaneClient } from '../helpers/control-plane-client.ts';
import { tempHome } from '../helpers/runtime.ts';
import { service } from '../helpers/services.ts';

// The same faults with run state in a real PostgreSQL and the bus on a real Kafka broker:
// `sluice server` with tokens, forked workers talking to Kafka directly.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
let pgUrl: string | undefined;
let kafka: string | undefined;
let env: Record<string, string>;
let server: DevServer | undefined;
let api: ControlPlaneClient;

async function start(): Promise<void> {
  server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', '0'], env);
}

before(async () => {
  pgUrl = await service('postgres');
  kafka = await service('kafka');
  if (!pgUrl || !kafka) return;
  env = {
    SLUICE_METADATA_URL: pgUrl, SLUICE_METADATA_SCHEMA: schema, SLUICE_KAFKA_BROKERS: kafka,
    SLUICE_KAFKA_TOPIC_PREFIX: `${schema}.`, SLUICE_HEARTBEAT_MS: '500', SLUICE_WORKERS: '2',
  };
  const { stdout } = await run(process.execPath, ['src/cli/main.ts', '--home', dir.home, 'token', 'create', '--role', 'edit', '--name', 'faults'], { cwd: root, env: { PATH: process.env.PATH, ...env } });
  await start();
  api = new ControlPlaneClient(server!.url, stdout.trim());
});
after(async () => {
  await server?.stop();
  if (pgUrl) await dropSchema(pgUrl, schema);
  dir.cleanup();
});

const skip = (t: { skip: (m: string) => void }) => {
  if (!pgUrl || !kafka) {
    t.skip('PostgreSQL or Kafka not installed');
    return true;
  }
  return false;
};

test('server mode refuses calls without a token', async (t) => {
  if (skip(t)) return;
  assert.equal((await fetch(`${server!.url}/api/v1/runs`)).status, 401);
});

test('PostgreSQL + Kafka: kill -9 of a worker mid retail step loses nothing and doubles nothing', async (t) => {
  if (skip(t)) return;
  await api.killWorkerMidRetail();
});

test('PostgreSQL + Kafka: kill -9 of the control plane mid run, restart, the run finishes', async (t) => {
  if (skip(t)) return;
  const { id } = await api.startRun('dummy', { records: 4000, rate: 1000 });
  await api.runningAttempt(id, (a) => a.step === 'load');
  server!.child.kill('SIGKILL');
  await new Promise((r) => server!.child.once('exit', r));
  await start();
  api = new ControlPlaneClient(server!.url, api.token);
  const d = await api.waitRun(id);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d));
});

test('two control planes on one PostgreSQL: one leads, the other stands by and takes over within 15 s of a kill -9; the run finishes, no step twice', async (t) => {
  if (skip(t)) return;
  const standbyHome = tempHome();
  let standbyLog = '';
  // Off Kubernetes a standby is not ready, so nothing routes to it.
  const standby = startServerProcess(['--home', standbyHome.home, 'server', '--host', '127.0.0.1', '--port', '0'], env, (c) => (standbyLog += c));
  try {
    // The standby answers health checks but is not ready while the leader lives.
    for (const end = Date.now() + 60_000; !/standby: another control plane leads schema/.test(standbyLog);) {
      if (Date.now() > end) assert.fail(`the second control plane did not stand by:\n${standbyLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const health = /health on (http:\/\/\S+)\/healthz/.exec(standbyLog)?.[1];
    assert.ok(health, standbyLog);
    assert.equal((await fetch(`${health}/healthz`)).status, 200);
    assert.equal((await fetch(`${health}/readyz`)).status, 503, 'a standby is not ready');
    await killLeaderMidRun(standby);
  } finally {
    const s = await standby.catch(() => null);
    if (s && s !== server) await s.stop();
    standbyHome.cleanup();
  }
});

test('on Kubernetes: the leader labels its pod sluice.dev/leader=true, the standby false and ready; the Service\'s endpoints follow the leader across a kill -9', async (t) => {
  if (skip(t)) return;
  const kubeconfig = await service('kubernetes', t);
  if (!kubeconfig) return;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const namespace = `sluice-ha-${randomUUID().slice(0, 8)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const standbyHome = tempHome();
  let standbyLog = '';
  let standby: Promise<DevServer> | undefined;
  try {
    // Two pods for the two processes, on a kwok node (it reports them running and ready), and
    // the chart's kind of Service: it selects the leader label.
    for (const name of ['cp-a', 'cp-b']) {
      await core.createNamespacedPod({ namespace, body: {
        metadata: { name, labels: { app: 'sluice-ha' } },
        spec: { nodeSelector: { 'cloud.google.com/gke-nodepool': 'kwok' }, containers: [{ name: 'control-plane', image: 'sluice:test' }] },
      } });
    }
    await core.createNamespacedService({ namespace, body: {
      metadata: { name: 'sluice' }, spec: { selector: { app: 'sluice-ha', 'sluice.dev/leader': 'true' }, ports: [{ name: 'http', port: 8080 }] },
    } });
    const file = join(dir.home, 'pod.json');
    writeFileSync(file, JSON.stringify({ pod: { kubeconfig } }));
    const podEnv = (name: string) => ({ ...env, SLUICE_CONFIG: file, SLUICE_POD_NAMESPACE: namespace, SLUICE_POD_NAME: name });
    await server!.stop();
    server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', '0'], podEnv('cp-a'));
    api = new ControlPlaneClient(server.url, api.token);
    standby = startServerProcess(['--home', standbyHome.home, 'server', '--host', '127.0.0.1', '--port', '0'], podEnv('cp-b'), (c) => (standbyLog += c));
    for (const end = Date.now() + 60_000; !/standby: another control plane leads schema/.test(standbyLog);) {
      if (Date.now() > end) assert.fail(`the second control plane did not stand by:\n${standbyLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const label = async (name: string) => (await core.readNamespacedPod({ name, namespace })).metadata?.labels?.['sluice.dev/leader'];
    assert.equal(await label('cp-a'), 'true');
    assert.equal(await label('cp-b'), 'false');
    const health = /health on (http:\/\/\S+)\/healthz/.exec(standbyLog)?.[1];
    assert.equal((await fetch(`${health}/readyz`)).status, 200, 'a labelled standby is ready: the Service does not select it');
    const endpoints = async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=sluice' });
      return slices.items.flatMap((sl) => (sl.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name)).sort();
    };
    const until = async (want: string[], what: string) => {
      for (const end = Date.now() + 20_000; ;) {
        const got = await endpoints();
        if (JSON.stringify(got) === JSON.stringify(want)) return;
        if (Date.now() > end) assert.fail(`${what}: the Service's endpoints are ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until(['cp-a'], 'the leader alone');
    await killLeaderMidRun(standby);
    assert.equal(await label('cp-b'), 'true', 'the new leader labelled itself');
    // cp-a's process is gone but kwok keeps its pod ready; a kubelet would restart its
    // container, which labels itself standby before it is ready. Here: cp-b is an endpoint.
    for (const end = Date.now() + 20_000; !(await endpoints()).includes('cp-b');) {
      if (Date.now() > end) assert.fail(`the new leader is not an endpoint: ${JSON.stringify(await endpoints())}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    const s = await standby?.catch(() => null);
    if (s && s !== server) await s.stop();
    standbyHome.cleanup();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
});

/**
 * Starts a run, kill -9s the leader while a step runs, and checks the standby takes over
 * within 15 s (printed), the run succeeds and no step succeeded twice. `server` and `api`
 * are the new leader's afterwards.
 */
async function killLeaderMidRun(standby: Promise<DevServer>): Promise<void> {
  const { id } = await api.startRun('dummy', { records: 4000, rate: 1000 });
  await api.runningAttempt(id, (a) => a.step === 'load');
  const killedAt = Date.now();
  server!.child.kill('SIGKILL');
  await new Promise((r) => server!.child.once('exit', r));
  server = await standby;
  const takeoverS = (Date.now() - killedAt) / 1000;
  console.log(`# takeover after kill -9 of the leader: ${takeoverS.toFixed(1)} s`);
  assert.ok(takeoverS <= 15, `took over in ${takeoverS.toFixed(1)} s`);
  api = new ControlPlaneClient(server.url, api.token);
  const d = await api.waitRun(id);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d));
  const done = d.attempts.filter((a) => a.status === 'succeeded');
  assert.equal(new Set(done.map((a) => a.step)).size, done.length, `a step succeeded twice: ${JSON.stringify(done)}`);
}

test('PostgreSQL + Kafka: the broker stopped for 10 s during a run and restarted: no event is lost', async (t) => {
  if (skip(t)) return;
  const { id } = await api.startRun('dummy', { records: 6000, rate: 1000 });
  await api.runningAttempt(id, (a) => a.step === 'load');
  await run('bash', [`${root}scripts/kafka.sh`, 'stop'], { cwd: root });
  await new Promise((r) => setTimeout(r, 10_000));
  await run('bash', [`${root}scripts/kafka.sh`, 'start'], { cwd: root });
  const d = await api.waitRun(id, 240_000);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d));
  // Every event the attempt emitted reached the store: the run ends with the step's
  // materialization and checks, and the events of the final attempt are gapless.
  const events = await api.call<unknown>('GET', `/api/v1/assets/dummy.records/materializations`);
  const items = (events as { items: { runId: string; rows: number }[] }).items.filter((m) => m.runId === id);
  assert.equal(items.length, 1);
  assert.equal(items[0].rows, 6000);
});
