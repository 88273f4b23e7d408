import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { folders, generatedApplications, manifests, renderApp, schemalessCrds, type Manifest } from '../helpers/gitops.ts';
import { service } from '../helpers/services.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const ARGO = `${root}deploy/argocd`;
const APP_GROUPS = ['apps', 'optional'] as const;
// Kinds whose CRDs a cluster with kube-prometheus-stack has: the charts render them then.
const API_VERSIONS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'monitoring.coreos.com/v1/PodMonitor'];

async function envOf(script: string): Promise<Record<string, string> | null> {
  const r = await run('bash', [`${root}scripts/${script}`, 'env']).catch(() => null);
  return r ? Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string])) : null;
}

// Every CRD the cluster has is Established (polled: `kubectl wait --all` waits on each in
// turn and gives no reason); a slow one is named with its conditions.
async function established(kubectl: (args: string[]) => Promise<{ stdout: string }>): Promise<void> {
  let pending: string[] = [];
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    const { items } = JSON.parse((await kubectl(['get', 'crd', '-o', 'json'])).stdout) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string; message?: string }[] } }[] };
    pending = items.filter((c) => !c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'))
      .map((c) => `${c.metadata.name}: ${JSON.stringify(c.status?.conditions ?? [])}`);
    if (pending.length === 0) return;
  }
  throw new Error(`CRDs not Established after 180 s: ${pending.join('; ')}`);
}

// The bootstrap kustomization with Argo CD's install.yaml from its Go module (the same
// version) in place of the URL, which cannot be reached here.
async function buildBootstrap(kubectl: string, argocdManifests: string): Promise<Manifest[]> {
  const copy = mkdtempSync(join(tmpdir(), 'sluice-bootstrap-'));
  cpSync(`${ARGO}/bootstrap`, copy, { recursive: true });
  cpSync(`${argocdManifests}/install.yaml`, `${copy}/argocd-install.yaml`);
  const k = readFileSync(`${copy}/kustomization.yaml`, 'utf8');
  const url = 'https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.7/manifests/install.yaml';
  assert.ok(k.includes(url), 'the kustomization pins Argo CD v3.5.7');
  writeFileSync(`${copy}/kustomization.yaml`, k.replace(url, 'argocd-install.yaml'));
  const { stdout } = await run(kubectl, ['kustomize', copy], { maxBuffer: 64 << 20 });
  return manifests(stdout);
}

// Everything under deploy/argocd and deploy/k3d, validated as a platform engineer's CI would:
// the real API server from scripts/kubernetes.sh with the operators' real CRDs (from their Go
// modules, scripts/crds.sh), server-side dry runs with strict field validation.
describe('the GitOps repository (deploy/argocd, deploy/k3d)', () => {
  let tools: Record<string, string> | null = null;
  let crds: Record<string, string> | null = null;
  let kubeconfig: string | undefined;
  const id = randomUUID().slice(0, 8);
  const created: string[] = [];
  const kubectl = async (args: string[], stdin?: string) => {
    const p = run(tools!.KUBECTL!, ['--kubeconfig', kubeconfig!, ...args], { maxBuffer: 64 << 20, timeout: 120_000 });
    if (stdin !== undefined) p.child.stdin?.end(stdin);
    return p;
  };
  const dryRun = (namespace: string, yaml: string) => kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--force-conflicts', '-n', namespace, '-f', '-'], yaml);

  before(async () => {
    tools = await envOf('kubernetes.sh');
    if (!tools || !existsSync(tools.KUBECTL ?? '') || !existsSync(tools.HELM ?? '')) tools = null;
    if (process.env.CI === 'true') await run('bash', [`${root}scripts/crds.sh`, 'install'], { timeout: 900_000 });
    crds = await envOf('crds.sh');
    if ((!tools || !crds) && process.env.CI === 'true') throw new Error('kubectl, helm or the CRDs are missing (scripts/kubernetes.sh install, scripts/crds.sh install)');
    if (!tools || !crds) return;
    kubeconfig = await service('kubernetes');
    if (!kubeconfig) return;
    // The CRDs stay: the API server is this test run's own and forgets them at teardown.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', crds.CRDS!]);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], schemalessCrds());
    await established(kubectl);
    for (const ns of ['argocd', ...APP_GROUPS.flatMap((g) => folders(`${ARGO}/${g}`)).map((a) => `gitops-${id}-${a}`)]) {
      const r = await kubectl(['create', 'namespace', ns]).catch((e: { stderr?: string }) => ({ stderr: e.stderr ?? '' }));
      if ('stdout' in r) created.push(ns);
      else assert.match(r.stderr, /AlreadyExists/);
    }
  });
  after(async () => {
    for (const ns of created) await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  it('bootstraps: Argo CD at the pinned version, the AppProject and the ApplicationSet, admitted by the API server', async (ctx) => {
    if (!kubeconfig) return ctx.skip('no Kubernetes here');
    const objects = await buildBootstrap(tools!.KUBECTL!, crds!.ARGOCD_MANIFESTS!);
    const text = JSON.stringify(objects);
    assert.doesNotMatch(text, /REPLACED-BY-KUSTOMIZE/, 'the repository URL reaches every field');
    assert.ok(!objects.some((o) => o.metadata.name === 'sluice-gitops'), 'the local-config ConfigMap is not applied');
    const project = objects.find((o) => o.kind === 'AppProject')!;
    const appset = objects.find((o) => o.kind === 'ApplicationSet')!;
    assert.deepEqual((project.spec as { sourceRepos: string[] }).sourceRepos, ['https://github.com/sluice-data/sluice.git']);
    assert.equal(appset.metadata.namespace, 'argocd');
    const server = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-server') as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.match(server.spec.template.spec.containers[0]!.image, /argocd:v3\.5\.7$/);
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cm')!;
    assert.equal(cm.data?.['application.resourceTrackingMethod'], 'annotation', 'the patch applies to the installed argocd-cm');
    const { stdout } = await dryRun('argocd', objects.map((o) => JSON.stringify(o)).join('\n'));
    assert.match(stdout, /applicationset.argoproj.io\/sluice-platform serverside-applied \(server dry run\)/);
    assert.match(stdout, /appproject.argoproj.io\/sluice serverside-applied \(server dry run\)/);
    assert.match(stdout, /deployment.apps\/argocd-server serverside-applied \(server dry run\)/);
  });

  it('the ApplicationSet yields exactly one Application per folder of apps/, into the namespace of its name, and each is admitted', async (ctx) => {
    if (!kubeconfig) return ctx.skip('no Kubernetes here');
    const objects = await buildBootstrap(tools!.KUBECTL!, crds!.ARGOCD_MANIFESTS!);
    const appset = objects.find((o) => o.kind === 'ApplicationSet') as unknown as Parameters<typeof generatedApplications>[0];
    const project = objects.find((o) => o.kind === 'AppProject') as unknown as { spec: { destinations: { namespace: string }[] } };
    const apps = generatedApplications(appset, root);
    const expected = folders(`${ARGO}/apps`);
    assert.deepEqual(expected, ['clickhouse', 'kafka', 'minio', 'monitoring', 'postgresql', 'sluice']);
    assert.deepEqual(apps.map((a) => a.metadata.name), expected.map((f) => `sluice-${f}`));
    for (const app of apps) {
      const spec = app.spec as { destination: { namespace: string }; source: { path: string; helm: { releaseName: string } }; syncPolicy: { automated: { prune: boolean; selfHeal: boolean }; syncOptions: string[] } };
      const folder = app.metadata.name.replace(/^sluice-/, '');
      assert.equal(spec.destination.namespace, folder);
      assert.equal(spec.source.path, `deploy/argocd/apps/${folder}`);
      assert.deepEqual(spec.syncPolicy.automated, { prune: true, selfHeal: true });
      for (const o of ['CreateNamespace=true', 'ServerSideApply=true']) assert.ok(spec.syncPolicy.syncOptions.includes(o), `${app.metadata.name}: ${o}`);
      assert.ok(project.spec.destinations.some((d) => d.namespace === folder), `the project allows ${folder}`);
    }
    const { stdout } = await dryRun('argocd', apps.map((a) => JSON.stringify(a)).join('\n'));
    assert.equal(stdout.match(/serverside-applied \(server dry run\)/g)?.length, apps.length);
    // Listing an optional folder adds exactly its Application.
    const withKeda = structuredClone(appset);
    withKeda.spec.generators[0]!.git!.directories.push({ path: 'deploy/argocd/optional/keda' });
    assert.deepEqual(generatedApplications(withKeda, root).map((a) => a.metadata.name).filter((n) => !apps.some((a) => a.metadata.name === n)), ['sluice-keda']);
    for (const f of folders(`${ARGO}/optional`)) assert.ok(project.spec.destinations.some((d) => d.namespace === f), `the project allows ${f}`);
  });

  it('every app renders and every object is admitted (strict, server-side dry run) with the operators\' CRDs', async (ctx) => {
    if (!kubeconfig) return ctx.skip('no Kubernetes here');
    const kinds = new Set<string>();
    for (const group of APP_GROUPS) {
      for (const app of folders(`${ARGO}/${group}`)) {
        const namespace = `gitops-${id}-${app}`;
        // The chart's `helm test` pod names the release's ServiceAccount, which a dry run does not create.
        const set = app === 'sluice' ? ['sluice.tests.enabled=false'] : [];
        const { yaml, objects, remote } = await renderApp(tools!.HELM!, `${ARGO}/${group}/${app}`, { release: app, namespace, apiVersions: API_VERSIONS, set });
        for (const d of remote) assert.match(d.version, /^v?\d+\.\d+\.\d+$/, `${app}: ${d.name} is pinned to an exact version`);
        if (app === 'sluice') {
          // Each role authenticates to Kafka as its own KafkaUser: the control plane mounts its
          // user's Secret, attempt pods get the worker's by reference.
          const cp = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'sluice') as unknown as { spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } } };
          assert.equal(cp.spec.template.spec.volumes.find((v) => v.name === 'kafka-credentials')?.secret?.secretName, 'kafka-sluice-control-plane');
          const config = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sluice-config')!.data!['config.json']!) as { launcher: { secretEnv: { name: string; secret: string }[] } };
          assert.deepEqual(config.launcher.secretEnv.filter((e) => e.name.startsWith('SLUICE_KAFKA_')).map((e) => `${e.name}<-${e.secret}`), ['SLUICE_KAFKA_USERNAME<-kafka-sluice-worker', 'SLUICE_KAFKA_PASSWORD<-kafka-sluice-worker']);
        }
        if (app === 'monitoring') {
          const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'alertmanager-sluice') as Manifest & { stringData: Record<string, string> };
          assert.equal(secret.stringData['alertmanager.yaml']!.trim(), readFileSync(`${root}deploy/alertmanager/alertmanager.yaml`, 'utf8').trim(), 'Alertmanager gets the routing the repository documents');
        }
        if (objects.length === 0) continue;
        const { stdout } = await dryRun(namespace, yaml).catch((e: { stderr?: string }) => assert.fail(`${group}/${app}: ${e.stderr}`));
        assert.equal(stdout.match(/serverside-applied \(server dry run\)/g)?.length, objects.length, `${app}: ${stdout}`);
        for (const o of objects) kinds.add(`${o.apiVersion.split('/')[0]}/${o.kind}`);
      }
    }
    for (const k of ['postgresql.cnpg.io/Cluster', 'postgresql.cnpg.io/Database', 'kafka.strimzi.io/Kafka', 'kafka.strimzi.io/KafkaNodePool', 'kafka.strimzi.io/KafkaTopic', 'kafka.strimzi.io/KafkaUser',
      'clickhouse.altinity.com/ClickHouseInstallation', 'monitoring.coreos.com/ServiceMonitor', 'monitoring.coreos.com/PrometheusRule', 'monitoring.coreos.com/PodMonitor', 'cert-manager.io/ClusterIssuer', 'apps/Deployment']) {
      assert.ok(kinds.has(k), `${k} is among the validated objects`);
    }
  });

  it('the API server refuses a broken manifest and names the field', async (ctx) => {
    if (!kubeconfig) return ctx.skip('no Kubernetes here');
    const namespace = `gitops-${id}-postgresql`;
    const { objects } = await renderApp(tools!.HELM!, `${ARGO}/apps/postgresql`, { release: 'postgresql', namespace, apiVersions: [] });
    const cluster = objects.find((o) => o.kind === 'Cluster')!;
    const typo = structuredClone(cluster) as Manifest & { spec: Record<string, unknown> };
    typo.spec.instancez = typo.spec.instances;
    await assert.rejects(dryRun(namespace, JSON.stringify(typo)), (e: { stderr?: string }) => /\.spec\.instancez: field not declared in schema/.test(e.stderr ?? ''));
    const wrongType = structuredClone(cluster) as Manifest & { spec: Record<string, unknown> };
    wrongType.spec.instances = 'three';
    await assert.rejects(dryRun(namespace, JSON.stringify(wrongType)), (e: { stderr?: string }) => /\.spec\.instances: expected numeric \(int or float\), got string/.test(e.stderr ?? ''));
    const kafka = await renderApp(tools!.HELM!, `${ARGO}/apps/kafka`, { release: 'kafka', namespace: `gitops-${id}-kafka`, apiVersions: [] });
    const badName = structuredClone(kafka.objects.find((o) => o.kind === 'KafkaTopic')!);
    // Even with a schemaless CRD, the API server holds a custom resource's name to its rules.
    badName.metadata.name = 'Sluice_Control';
    await assert.rejects(dryRun(`gitops-${id}-kafka`, JSON.stringify(badName)), (e: { stderr?: string }) => /metadata\.name: Invalid value: "Sluice_Control".*lowercase RFC 1123 subdomain/.test(e.stderr ?? ''));
  });

  // Strimzi's and Altinity's CRDs are in no registry here (scripts/crds.sh): their objects pass
  // a schemaless CRD above, so their fields are checked here against the operators' documented API.
  it('Strimzi and Altinity objects: KRaft with a node pool, topics with replication and retention, least-privilege users, ClickHouse users from Secrets', async (ctx) => {
    if (!tools) return ctx.skip('helm is not built here');
    const kafka = await renderApp(tools.HELM!, `${ARGO}/apps/kafka`, { release: 'kafka', namespace: 'kafka', apiVersions: [] });
    // The operators' specs are read field by field, as their documentation names them.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const of = (kind: string) => kafka.objects.filter((o) => o.kind === kind) as (Manifest & { spec: Record<string, any> })[];
    const [cluster] = of('Kafka');
    assert.equal(cluster!.metadata.annotations!['strimzi.io/kraft'], 'enabled');
    assert.equal(cluster!.metadata.annotations!['strimzi.io/node-pools'], 'enabled');
    const listeners = cluster!.spec.kafka.listeners as { authentication?: { type: string }; networkPolicyPeers: unknown }[];
    assert.ok(listeners.every((l) => l.authentication?.type === 'scram-sha-512'), 'no listener without authentication');
    assert.deepEqual(listeners[0]!.networkPolicyPeers, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'sluice' } } }], 'only Sluice\'s pods connect');
    for (const u of of('KafkaUser')) assert.equal(u.spec.authentication.password.valueFrom.secretKeyRef.name, `${u.metadata.name}-password`);
    assert.equal(cluster!.spec.kafka.authorization.type, 'simple');
    assert.equal(cluster!.spec.kafka.config['auto.create.topics.enable'], false);
    const [pool] = of('KafkaNodePool');
    assert.deepEqual(pool!.spec.roles, ['controller', 'broker']);
    assert.equal(pool!.metadata.labels!['strimzi.io/cluster'], cluster!.metadata.name);
    const topics = new Map(of('KafkaTopic').map((t) => [t.spec.topicName as string, t.spec]));
    for (const name of ['sluice.control', 'sluice.events', 'sluice.data.klines']) {
      const t = topics.get(name);
      assert.ok(t, `topic ${name}`);
      assert.equal(t.replicas, 3);
      assert.equal(t.config['min.insync.replicas'], 2);
      assert.ok(Number(t.config['retention.ms']) > 0);
    }
    // Who may write what: the control plane alone writes commands, attempts alone write events.
    const users = new Map(of('KafkaUser').map((u) => [u.metadata.name, u.spec.authorization.acls as { resource: { type: string; name: string; patternType: string }; operations: string[] }[]]));
    const may = (user: string, op: string, topic: string) => (users.get(user) ?? []).some((a) => a.resource.type === 'topic' && a.operations.includes(op)
      && (a.resource.patternType === 'literal' ? a.resource.name === topic : topic.startsWith(a.resource.name)));
    const table: [string, string, string, boolean][] = [
      ['sluice-control-plane', 'Write', 'sluice.control', true], ['sluice-control-plane', 'Read', 'sluice.events', true], ['sluice-control-plane', 'Write', 'sluice.events', false],
      ['sluice-control-plane', 'Write', 'sluice.data.klines', false],
      ['sluice-worker', 'Read', 'sluice.control', true], ['sluice-worker', 'Write', 'sluice.control', false], ['sluice-worker', 'Write', 'sluice.events', true], ['sluice-worker', 'Write', 'sluice.data.klines', true],
      ['sluice-connector', 'Read', 'sluice.data.klines', true], ['sluice-connector', 'Write', 'sluice.data.klines', false], ['sluice-connector', 'Read', 'sluice.control', false],
      ['sluice-connector', 'Write', 'sluice.dlq.klines', true],
    ];
    assert.deepEqual(table.filter(([u, op, t, expected]) => may(u, op, t) !== expected).map(([u, op, t, e]) => `${u} ${op} ${t}: expected ${e}`), []);

    const ch = await renderApp(tools.HELM!, `${ARGO}/apps/clickhouse`, { release: 'clickhouse', namespace: 'clickhouse', apiVersions: [] });
    const chi = ch.objects.find((o) => o.kind === 'ClickHouseInstallation') as Manifest & { spec: { configuration: { users: Record<string, unknown> } } };
    const userKeys = chi.spec.configuration.users;
    for (const u of ['sluice', 'sluice_query', 'grafana']) assert.match(String(userKeys[`${u}/k8s_secret_password`]), /^clickhouse\/clickhouse(-[a-z]+)?-credentials\/password$/);
    assert.equal(userKeys['grafana/profile'], 'readonly');
  });

  it('deploy/k3d/cluster.yaml validates against k3d\'s schema, and its node pools cover every nodeSelector of the apps', async (ctx) => {
    if (!crds) return ctx.skip('the schemas are not collected here (scripts/crds.sh install)');
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(crds.K3D_SCHEMA!, 'utf8')) as object);
    const config = parse(readFileSync(`${root}deploy/k3d/cluster.yaml`, 'utf8')) as { agents: unknown; options: { k3s: { nodeLabels: { label: string }[] } } };
    assert.ok(validate(config), JSON.stringify(validate.errors));
    assert.equal(validate({ ...config, agents: 'seven' }), false);
    assert.match(JSON.stringify(validate.errors), /\/agents.*must be number/);
    assert.equal(validate({ ...config, nodePools: [] }), false, 'an unknown top-level field is refused');
    const pools = new Set(config.options.k3s.nodeLabels.map((l) => l.label.split('=')[1]));
    const used = new Set<string>();
    for (const group of APP_GROUPS) {
      for (const app of folders(`${ARGO}/${group}`)) {
        for (const m of readFileSync(`${ARGO}/${group}/${app}/values.yaml`, 'utf8').matchAll(/(?:gke-nodepool: |nodePool: )([a-z-]+)/g)) used.add(m[1]!);
      }
    }
    assert.ok(used.size >= 5, [...used].join(','));
    assert.deepEqual([...used].filter((p) => !pools.has(p)), [], 'every pool an app asks for has a node');
  });

  it('scripts/cluster.sh secrets provides every Secret the apps expect, twice without rotating a password', async (ctx) => {
    if (!kubeconfig) return ctx.skip('no Kubernetes here');
    // Into a throwaway kubeconfig context whose namespaces are this test's: the script names
    // fixed namespaces, so run it against the real API server and clean up after.
    const env = { ...process.env, KUBECTL: tools!.KUBECTL!, KUBECONFIG: kubeconfig };
    const first = await run('bash', [`${root}scripts/cluster.sh`, 'secrets'], { env, timeout: 120_000 });
    assert.match(first.stderr, /secret sluice\/postgresql-credentials created/);
    const get = async (ns: string, name: string, key: string) => Buffer.from((await kubectl(['-n', ns, 'get', 'secret', name, '-o', `jsonpath={.data.${key}}`])).stdout, 'base64').toString();
    const pg = await get('postgresql', 'postgresql-credentials', 'password');
    assert.equal(pg.length, 24);
    assert.equal(await get('sluice', 'postgresql-credentials', 'password'), pg, 'the database and its client share the password');
    assert.equal(await get('sluice', 's3-credentials', 'secretKey'), await get('minio', 'minio-credentials', 'rootPassword'));
    assert.equal(await get('monitoring', 'clickhouse-grafana-credentials', 'password'), await get('clickhouse', 'clickhouse-grafana-credentials', 'password'));
    assert.equal(await get('sluice', 'kafka-sluice-worker', 'password'), await get('kafka', 'sluice-worker-password', 'password'), 'Sluice authenticates as the KafkaUser');
    assert.ok((await get('monitoring', 'grafana-admin', 'admin-password')).length === 24);
    const second = await run('bash', [`${root}scripts/cluster.sh`, 'secrets'], { env, timeout: 120_000 });
    assert.doesNotMatch(second.stderr, /created/);
    assert.equal(await get('sluice', 'postgresql-credentials', 'password'), pg);
    // Every Secret an app's values name exists in that app's namespace.
    const named: [string, string][] = [['postgresql', 'postgresql-credentials'], ['postgresql', 'metabase-db-credentials'], ['clickhouse', 'clickhouse-credentials'],
      ['clickhouse', 'clickhouse-query-credentials'], ['clickhouse', 'clickhouse-grafana-credentials'], ['minio', 'minio-credentials'], ['monitoring', 'grafana-admin'],
      ['sluice', 'clickhouse-credentials'], ['metabase', 'metabase-db-credentials'],
      ['kafka', 'sluice-control-plane-password'], ['kafka', 'sluice-worker-password'], ['kafka', 'sluice-connector-password'], ['sluice', 'kafka-sluice-control-plane'], ['sluice', 'kafka-sluice-worker']];
    for (const [ns, name] of named) await kubectl(['-n', ns, 'get', 'secret', name]);
    for (const ns of ['postgresql', 'sluice', 'clickhouse', 'minio', 'monitoring', 'metabase', 'kafka']) await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });
});
