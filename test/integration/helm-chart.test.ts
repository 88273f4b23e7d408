import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { loadAllYaml } from '@kubernetes/client-node';
import pg from 'pg';
import { dropBucket, dropSchema } from '../helpers/cleanup.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { PodRunner } from '../helpers/pod-runner.ts';
import { KAFKA_SCRAM, MINIO_CREDENTIALS as MINIO, service } from '../helpers/services.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const CHART = `${root}deploy/helm/sluice`;
const VALUES_FILES = [null, `${CHART}/values-workers.yaml`];

interface K8sObject { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> }
interface Tools { KUBECTL: string; HELM: string }

async function tools(): Promise<Tools | null> {
  const { stdout } = await run('bash', [`${root}scripts/kubernetes.sh`, 'env']);
  const env = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return existsSync(env.HELM ?? '') && existsSync(env.KUBECTL ?? '') ? (env as unknown as Tools) : null;
}

// The chart (deploy/helm/sluice): linted and rendered by the real helm, every object
// admitted by the real API server in a `restricted` namespace, its RBAC checked verb by verb
// with `kubectl auth can-i`, and the config it renders accepted by Sluice's own schema.
describe('the Helm chart', () => {
  let t: Tools | null = null;
  const render = async (namespace: string, values: string | null, ...set: string[]) => {
    const args = ['template', 'sluice', CHART, '--namespace', namespace, '--kube-version', '1.34.4', ...(values ? ['-f', values] : []), ...set.flatMap((s) => ['--set', s])];
    const { stdout } = await run(t!.HELM, args, { maxBuffer: 16 << 20 });
    return { yaml: stdout, objects: loadAllYaml(stdout).filter(Boolean) as K8sObject[] };
  };

  before(async () => {
    t = await tools();
    if (!t && process.env.CI === 'true') throw new Error('helm and kubectl are not built (scripts/kubernetes.sh install)');
  });

  it('lints clean with the default values and each documented values file', async (ctx) => {
    if (!t) return ctx.skip('helm is not built here');
    for (const values of VALUES_FILES) {
      const { stdout } = await run(t.HELM, ['lint', CHART, '--kube-version', '1.34.4', ...(values ? ['-f', values] : [])]);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('refuses a bad value at install time, naming the field', async (ctx) => {
    if (!t) return ctx.skip('helm is not built here');
    await assert.rejects(render('x', null, 'workerMode=bogus'), (err: { stderr?: string }) => /\/workerMode.*one of 'kubernetes', 'workers'/.test(err.stderr ?? ''));
    await assert.rejects(render('x', null, 'controlPlane.replicas=0'), (err: { stderr?: string }) => /\/controlPlane\/replicas/.test(err.stderr ?? ''));
  });

  it('renders a config Sluice accepts: the Kubernetes launcher in its namespace, secrets by reference', async (ctx) => {
    if (!t) return ctx.skip('helm is not built here');
    const { objects } = await render('etl', null);
    const cm = objects.find((o) => o.kind === 'ConfigMap');
    const file = JSON.parse(cm?.data?.['config.json'] ?? '{}') as { launcher: { kind: string; namespace: string; serviceAccount: string } };
    assert.equal(file.launcher.kind, 'kubernetes');
    assert.equal(file.launcher.namespace, 'etl');
    assert.equal(file.launcher.serviceAccount, 'sluice-attempt');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/sluice-chart-');
    writeFileSync(`${dir}/config.json`, JSON.stringify(file));
    const config = loadConfig({
      env: { SLUICE_CONFIG: `${dir}/config.json`, SLUICE_KAFKA_BROKERS: 'kafka:9092', SLUICE_WAREHOUSE_URL: 'http://clickhouse:8123', SLUICE_METADATA_URL: 'postgres://u:p@postgresql:5432/sluice' },
      cwd: root,
    });
    assert.equal(config.launcher.kind, 'kubernetes');
    // Credentials are mounted files, never env values, and every container is restricted.
    const { yaml } = await render('etl', `${CHART}/values-workers.yaml`);
    assert.doesNotMatch(yaml, /secretKeyRef/);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const pod = (d.spec as { template: { spec: { containers: { securityContext: Record<string, unknown>; volumeMounts: { mountPath: string }[] }[] } } }).template.spec;
      for (const c of pod.containers) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.ok(c.volumeMounts.some((m) => m.mountPath === '/var/run/secrets/sluice/postgresql'));
      }
    }
    const workers = await render('etl', `${CHART}/values-workers.yaml`);
    assert.ok(workers.objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'sluice-worker'));
    assert.ok(workers.yaml.includes('name: "data-engineers"'));
  });

  it('renders Ingress, ServiceMonitor, PrometheusRule and KEDA\'s ScaledObject only when asked and when the cluster has their CRDs', async (ctx) => {
    if (!t) return ctx.skip('helm is not built here');
    const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind);
    const plain = await render('etl', null);
    for (const k of ['Ingress', 'ServiceMonitor', 'PrometheusRule', 'ScaledObject']) assert.ok(!kinds(plain.objects).includes(k), `${k} by default`);
    const operator = ['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor', '--api-versions', 'monitoring.coreos.com/v1/PrometheusRule'];
    const { stdout } = await run(t.HELM, ['template', 'sluice', CHART, '--namespace', 'etl', '--kube-version', '1.34.4', ...operator], { maxBuffer: 16 << 20 });
    const monitored = loadAllYaml(stdout).filter(Boolean) as K8sObject[];
    assert.ok(kinds(monitored).includes('ServiceMonitor') && kinds(monitored).includes('PrometheusRule'));
    const rules = JSON.stringify(monitored.find((o) => o.kind === 'PrometheusRule')?.spec);
    assert.match(rules, /SluiceControlPlaneDown/);
    assert.match(rules, /\{\{ \$labels\.pipeline \}\}/, 'Prometheus templates survive Helm\'s');

    const ingress = await render('etl', null, 'ingress.enabled=true', 'ingress.host=sluice.data.example', 'ingress.annotations.cert-manager\\.io/cluster-issuer=letsencrypt');
    const ing = ingress.objects.find((o) => o.kind === 'Ingress') as K8sObject & { metadata: { annotations: Record<string, string> } };
    assert.equal(JSON.stringify((ing.spec as { tls: unknown }).tls), JSON.stringify([{ hosts: ['sluice.data.example'], secretName: 'sluice-tls' }]));
    assert.equal(ing.metadata.annotations['cert-manager.io/cluster-issuer'], 'letsencrypt');
    await assert.rejects(render('etl', null, 'ingress.host=Not_A_Host'), (err: { stderr?: string }) => /\/ingress\/host/.test(err.stderr ?? ''));

    await assert.rejects(render('etl', `${CHART}/values-workers.yaml`, 'workers.autoscaling.enabled=true'),
      (err: { stderr?: string }) => /workers\.autoscaling\.enabled needs KEDA's ScaledObject CRD/.test(err.stderr ?? ''));
    const keda = await run(t.HELM, ['template', 'sluice', CHART, '--namespace', 'etl', '--kube-version', '1.34.4', '-f', `${CHART}/values-workers.yaml`, '--set', 'workers.autoscaling.enabled=true',
      '--set', 'stores.kafka.topicPrefix=prod.', '--api-versions', 'keda.sh/v1alpha1/ScaledObject'], { maxBuffer: 16 << 20 });
    const scaled = loadAllYaml(keda.stdout).filter(Boolean) as K8sObject[];
    const so = scaled.find((o) => o.kind === 'ScaledObject')?.spec as { triggers: { metadata: Record<string, string> }[] };
    assert.equal(so.triggers[0]?.metadata.consumerGroup, 'prod.sluice-workers');
    assert.equal(so.triggers[0]?.metadata.topic, 'prod.sluice.control');
    const workers = scaled.find((o) => o.kind === 'Deployment' && o.metadata.name === 'sluice-worker');
    assert.equal((workers?.spec as { replicas?: number }).replicas, undefined, 'KEDA owns the replica count');
  });

  describe('on the real API server', () => {
    let kubeconfig: string | undefined;
    const namespace = `sluice-chart-${randomUUID().slice(0, 8)}`;
    const kubectl = (...args: string[]) => run(t!.KUBECTL, ['--kubeconfig', kubeconfig!, ...args], { maxBuffer: 16 << 20 });

    before(async () => {
      if (!t) return;
      kubeconfig = await service('kubernetes');
      if (!kubeconfig) return;
      await kubectl('create', 'namespace', namespace);
      await kubectl('label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted');
    });
    after(async () => {
      if (kubeconfig) await kubectl('delete', 'namespace', namespace, '--wait=false').catch(() => undefined);
    });

    it('admits every rendered object (dry run on the server, strict validation) for each values file', async (ctx) => {
      if (!t || !kubeconfig) return ctx.skip('no Kubernetes here');
      for (const [values, ...set] of [...VALUES_FILES.map((v) => [v]), [null, 'ingress.enabled=true', 'ingress.className=nginx']]) {
        // The test pod names the release's ServiceAccount, which a dry run does not create;
        // the install below has it admitted for real.
        const { yaml } = await render(namespace, values ?? null, 'tests.enabled=false', ...(set as string[]));
        const child = kubectl('apply', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-');
        child.child.stdin?.end(yaml);
        const { stdout } = await child;
        assert.match(stdout, /deployment.apps\/sluice (created|configured) \(server dry run\)/);
        assert.doesNotMatch(stdout, /error|warning/i);
      }
    });

    it('gives the launcher exactly its verbs, and the user groups Kubernetes\' own roles', async (ctx) => {
      if (!t || !kubeconfig) return ctx.skip('no Kubernetes here');
      const { yaml } = await render(namespace, `${CHART}/values-workers.yaml`);
      // The RBAC objects for real (they need no image).
      const rbac = loadAllYaml(yaml).filter((o: K8sObject) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o?.kind));
      const child = kubectl('apply', '-n', namespace, '-f', '-');
      child.child.stdin?.end(rbac.map((o) => JSON.stringify(o)).join('\n'));
      await child;
      const can = async (as: string[], verb: string, resource: string): Promise<boolean> => {
        const r = await kubectl('auth', 'can-i', verb, resource, '-n', namespace, ...as).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
        return r.stdout.trim() === 'yes';
      };
      const launcher = ['--as', `system:serviceaccount:${namespace}:sluice`];
      const attempt = ['--as', `system:serviceaccount:${namespace}:sluice-attempt`];
      const group = (g: string) => ['--as', 'someone', '--as-group', g];
      const table: [string, string[], string, string, boolean][] = [
        ['launcher', launcher, 'create', 'jobs.batch', true],
        ['launcher', launcher, 'watch', 'pods', true],
        ['launcher', launcher, 'delete', 'pods', true],
        ['launcher', launcher, 'patch', 'pods', true],
        ['launcher', launcher, 'get', 'pods/log', true],
        ['launcher', launcher, 'update', 'leases.coordination.k8s.io', true],
        ['launcher', launcher, 'get', 'secrets', false],
        ['launcher', launcher, 'create', 'deployments.apps', false],
        ['launcher', launcher, 'create', 'pods', false],
        ['launcher', launcher, 'patch', 'jobs.batch', false],
        ['attempt', attempt, 'list', 'pods', false],
        ['attempt', attempt, 'get', 'secrets', false],
        ['admin group', group('data-platform-admins'), 'create', 'rolebindings.rbac.authorization.k8s.io', true],
        ['edit group', group('data-engineers'), 'create', 'jobs.batch', true],
        ['edit group', group('data-engineers'), 'create', 'rolebindings.rbac.authorization.k8s.io', false],
        ['view group', group('analysts'), 'list', 'jobs.batch', true],
        ['view group', group('analysts'), 'create', 'jobs.batch', false],
        ['view group', group('analysts'), 'get', 'secrets', false],
      ];
      const wrong: string[] = [];
      for (const [who, as, verb, resource, expected] of table) {
        if ((await can(as, verb, resource)) !== expected) wrong.push(`${who} ${verb} ${resource}: expected ${expected ? 'yes' : 'no'}`);
      }
      assert.deepEqual(wrong, []);
    });
  });

  // The whole release for real: `helm install --wait` runs the migrate hook (a real `sluice
  // migrate`, run by the pod runner against PostgreSQL and the ClickHouse server), the
  // Deployments become ready on kwok nodes (no image is needed there), and `helm test` runs
  // `sluice check` in a pod with the release's config and mounted credentials.
  describe('helm install and helm test against the real stores', () => {
    let kubeconfig: string | undefined;
    let runner: PodRunner | undefined;
    let s3: S3Client | undefined;
    let pgUrl: string | undefined;
    let set: string[] = [];
    const id = randomUUID().replace(/-/g, '').slice(0, 8);
    const namespace = `sluice-helm-${id}`;
    const schema = `helm_${id}`;
    const bucket = `sluice-helm-${id}`;
    const kubectl = (...args: string[]) => run(t!.KUBECTL, ['--kubeconfig', kubeconfig!, ...args], { maxBuffer: 16 << 20 });
    const helm = (...args: string[]) => run(t!.HELM, ['--kubeconfig', kubeconfig!, '-n', namespace, ...args], { maxBuffer: 16 << 20, timeout: 300_000 });

    before(async () => {
      if (!t) return;
      kubeconfig = await service('kubernetes');
      pgUrl = await service('postgres');
      const kafka = await service('kafka');
      const clickhouse = await service('clickhouse');
      const minio = await service('minio');
      if (!kubeconfig || !pgUrl || !kafka || !clickhouse || !minio) return void (kubeconfig = undefined);
      await kubectl('create', 'namespace', namespace);
      await kubectl('label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted');
      const pg = new URL(pgUrl);
      await kubectl('-n', namespace, 'create', 'secret', 'generic', 'postgresql-credentials', `--from-literal=username=${decodeURIComponent(pg.username)}`, `--from-literal=password=${decodeURIComponent(pg.password)}`);
      // Kafka over SASL/SCRAM, each role as its own user (scripts/kafka.sh's test users).
      for (const [secret, user] of [['kafka-sluice-control-plane', 'sluice-control-plane'], ['kafka-sluice-worker', 'sluice-worker']] as const) {
        await kubectl('-n', namespace, 'create', 'secret', 'generic', secret, `--from-literal=username=${user}`, `--from-literal=password=${KAFKA_SCRAM.users[user]}`);
      }
      await kubectl('-n', namespace, 'create', 'secret', 'generic', 's3-credentials', `--from-literal=accessKey=${MINIO.accessKeyId}`, `--from-literal=secretKey=${MINIO.secretAccessKey}`);
      s3 = new S3Client({ endpoint: minio, region: 'us-east-1', forcePathStyle: true, credentials: MINIO });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      runner = new PodRunner(kubeconfig);
      await runner.start();
      const pool = (where: string, p: string) => `${where}.nodeSelector.cloud\\.google\\.com/gke-nodepool=${p}`;
      set = [
        `stores.postgres.host=${pg.hostname}`, `stores.postgres.port=${pg.port}`, `stores.postgres.database=${pg.pathname.slice(1)}`, `stores.postgres.schema=${schema}`,
        `stores.kafka.brokers={${KAFKA_SCRAM.bootstrap}}`, 'stores.kafka.sasl.enabled=true', `stores.kafka.topicPrefix=helm.${id}.`, `stores.clickhouse.url=${clickhouse}`,
        `stores.s3.bucket=${bucket}`, `stores.s3.endpoint=${minio}`,
        // The Deployments on a kwok node (it reports them running and ready); the pods that
        // must really run (the hook, the test) on the pod runner's.
        pool('controlPlane', 'kwok'), pool('workers', 'kwok'), pool('migrate', 'default'), pool('tests', 'default'),
      ].flatMap((v) => ['--set', v]);
    });
    after(async () => {
      await runner?.close();
      if (kubeconfig) await kubectl('delete', 'namespace', namespace, '--wait=false').catch(() => undefined);
      if (s3) {
        await dropBucket(s3, bucket).catch(() => undefined);
        s3.destroy();
      }
      if (pgUrl) await dropSchema(pgUrl, schema);
    });

    it('installs with --wait after the migrate hook ran; helm test passes, and names the store that breaks', async (ctx) => {
      if (!t || !kubeconfig) return ctx.skip('no Kubernetes or a store here');
      const started = Date.now();
      const installed = await helm('install', 'sluice', CHART, '-f', `${CHART}/values-workers.yaml`, ...set, '--wait', '--timeout', '240s');
      assert.match(installed.stdout, new RegExp(`helm test sluice -n ${namespace}`), 'the notes say how to check the stores');
      assert.doesNotMatch(installed.stdout, /WARNING: namespace/, 'the namespace enforces the restricted level');
      console.log(`# helm install --wait (migrate hook included): ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const status = JSON.parse((await helm('status', 'sluice', '-o', 'json')).stdout) as { info: { status: string } };
      assert.equal(status.info.status, 'deployed');
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      const { rows } = await c.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema]);
      await c.end();
      assert.ok(rows[0].n > 5, `the migrate hook created the metadata tables in ${schema} (${rows[0].n})`);
      const ready = JSON.parse((await kubectl('-n', namespace, 'get', 'deployments', '-o', 'json')).stdout) as { items: { metadata: { name: string }; status: { readyReplicas?: number } }[] };
      assert.deepEqual(ready.items.map((d) => [d.metadata.name, d.status.readyReplicas]).sort(), [['sluice', 2], ['sluice-worker', 2]]);

      const passed = await helm('test', 'sluice', '--timeout', '120s');
      assert.match(passed.stdout, /TEST SUITE:\s+sluice-connection-test[\s\S]*Phase:\s+Succeeded/);
      // `sluice check` exits 1 when any store fails; the only broker address is the SCRAM
      // listener, so passing means the test pod authenticated as sluice-control-plane.

      // A rotated key that was not rolled out: the test fails and its pod says which store and why.
      await kubectl('-n', namespace, 'patch', 'secret', 's3-credentials', '-p', JSON.stringify({ stringData: { secretKey: 'rotated-wrongly' } }));
      await assert.rejects(helm('test', 'sluice', '--timeout', '120s'), (err: { stdout?: string; stderr?: string }) => /Phase:\s+Failed|failed/.test(`${err.stdout}${err.stderr}`));
      const pod = JSON.parse((await kubectl('-n', namespace, 'get', 'pod', 'sluice-connection-test', '-o', 'json')).stdout) as { status: { containerStatuses: { state: { terminated?: { exitCode: number; message?: string } } }[] } };
      const ended = pod.status.containerStatuses[0]?.state.terminated;
      assert.equal(ended?.exitCode, 1);
      assert.match(ended?.message ?? '', /^objects\s+s3:\/\/sluice-helm-\S+ at http:\/\/127\.0\.0\.1:\d+\s+FAILED\s+\d+\s+bucket \S+ access denied/m);
      assert.match(ended?.message ?? '', /1 of 4 failed: objects/);
    });
  });
});
