import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { ATTEMPT_ENV, buildAttemptJob, jobName, LABELS, type AttemptJobSettings } from '../../src/adapters/kubernetes/attempt-job.ts';
import { podOutcome } from '../../src/adapters/kubernetes/pod-outcome.ts';
import type { LaunchRequest } from '../../src/ports/launcher.ts';
import { step } from '../../src/sdk/step.ts';

const settings: AttemptJobSettings = {
  namespace: 'etl', image: 'registry.example/sluice:1.0', imagePullPolicy: 'IfNotPresent', serviceAccount: 'sluice-attempt',
  command: ['sluice'], nodePoolLabel: 'cloud.google.com/gke-nodepool', defaults: { nodePool: 'general', resources: { cpu: '250m', memory: '512Mi' } },
  ttlSecondsAfterFinished: 600, deadlineSlackSeconds: 60, env: { SLUICE_KAFKA_BROKERS: 'kafka:9092' },
  secretEnv: [{ name: 'AWS_SECRET_ACCESS_KEY', secret: 's3-credentials', key: 'secretKey' }], tmpSizeLimit: '1Gi', nodeLostSeconds: 45,
};
const request: LaunchRequest = {
  runId: 'run-1', attemptId: '0b6f2a8e-5f7c-4c55-9c43-3f1d1f0b8a11', attempt: 2, pipeline: 'retail', step: 'load_raw',
  params: { day: '2010-12-01' }, partition: '2010-12-01', timeoutMs: 90_500,
};

describe('the Job of an attempt', () => {
  const job = buildAttemptJob(request, settings);
  const pod = job.spec?.template.spec;
  const c = pod?.containers[0];

  it('never restarts and leaves retries to Sluice; it is cleaned up and has a deadline past the step timeout', () => {
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(pod?.restartPolicy, 'Never');
    assert.equal(job.spec?.ttlSecondsAfterFinished, 600);
    assert.equal(job.spec?.activeDeadlineSeconds, 91 + 60);
    assert.equal(buildAttemptJob({ ...request, timeoutMs: null }, settings).spec?.activeDeadlineSeconds, undefined);
  });

  it('is named and labelled by its attempt, with the exact values in annotations', () => {
    assert.equal(job.metadata?.name, jobName(request.attemptId));
    assert.ok((job.metadata?.name ?? '').length <= 63);
    assert.equal(job.metadata?.labels?.[LABELS.attemptId], request.attemptId);
    assert.equal(job.metadata?.labels?.[LABELS.attempt], '2');
    assert.equal(job.metadata?.labels?.[LABELS.step], 'load_raw');
    assert.equal(job.spec?.template.metadata?.labels?.[LABELS.runId], 'run-1');
    assert.equal(job.metadata?.annotations?.['sluice.dev/partition'], '2010-12-01');
    const long = buildAttemptJob({ ...request, runId: 'r'.repeat(100) + '-' }, settings);
    assert.equal(long.metadata?.labels?.[LABELS.runId]?.length, 63);
    assert.equal(long.metadata?.annotations?.['sluice.dev/run-id'], 'r'.repeat(100) + '-');
  });

  it('runs the one-shot worker on the attempt, with plain env and secrets by reference only', () => {
    assert.deepEqual(c?.command, ['sluice']);
    assert.deepEqual(c?.args, ['worker', '--attempt-env', ATTEMPT_ENV]);
    assert.deepEqual(JSON.parse(c?.env?.find((e) => e.name === ATTEMPT_ENV)?.value ?? '{}'), request);
    assert.equal(c?.env?.find((e) => e.name === 'SLUICE_KAFKA_BROKERS')?.value, 'kafka:9092');
    const secret = c?.env?.find((e) => e.name === 'AWS_SECRET_ACCESS_KEY');
    assert.equal(secret?.value, undefined);
    assert.deepEqual(secret?.valueFrom?.secretKeyRef, { name: 's3-credentials', key: 'secretKey' });
    assert.equal(pod?.automountServiceAccountToken, false);
    assert.equal(pod?.serviceAccountName, 'sluice-attempt');
  });

  it('has the restricted security context, with a writable /tmp only', () => {
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(c?.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.deepEqual(pod?.volumes, [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }]);
  });

  it('takes the step placement over the cluster defaults: node pool, resources, tolerations, image', () => {
    assert.deepEqual(pod?.nodeSelector, { 'cloud.google.com/gke-nodepool': 'general' });
    assert.deepEqual(c?.resources, { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } });
    assert.equal(c?.image, settings.image);
    const placed = buildAttemptJob({
      ...request,
      placement: { nodePool: 'highmem', resources: { memory: '8Gi' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'etl', effect: 'NoSchedule' }], image: 'sluice:gpu' },
    }, settings).spec?.template.spec;
    assert.deepEqual(placed?.nodeSelector, { 'cloud.google.com/gke-nodepool': 'highmem' });
    assert.deepEqual(placed?.containers[0]?.resources, { requests: { memory: '8Gi' }, limits: { memory: '8Gi' } });
    assert.equal(placed?.tolerations?.[0]?.key, 'dedicated');
    assert.equal(placed?.containers[0]?.image, 'sluice:gpu');
  });

  it('tolerates a node that stopped answering for nodeLostSeconds only (Kubernetes would wait 300 s)', () => {
    const lost = (pod?.tolerations ?? []).filter((t) => t.effect === 'NoExecute').map((t) => [t.key, t.operator, t.tolerationSeconds]);
    assert.deepEqual(lost, [['node.kubernetes.io/not-ready', 'Exists', 45], ['node.kubernetes.io/unreachable', 'Exists', 45]]);
  });

  it('refuses a launch request too large for a Kubernetes object, saying why', () => {
    assert.throws(() => buildAttemptJob({ ...request, params: { blob: 'x'.repeat(300_000) } }, settings), /launch request is \d+ bytes; a Job carries at most/);
  });

  it('a step refuses a placement Kubernetes would refuse, naming the field', () => {
    assert.throws(() => step({ name: 's', placement: { resources: { memory: 'lots' } }, run() {} }), /step s: placement\.resources\.memory: a quantity/);
    assert.throws(() => step({ name: 's', placement: { nodePool: 'no spaces' }, run() {} }), /placement\.nodePool/);
    assert.deepEqual(step({ name: 's', placement: { nodePool: 'etl' }, run() {} }).placement, { nodePool: 'etl' });
  });
});

describe('what a pod says about its attempt', () => {
  const o = { now: Date.parse('2026-01-01T00:01:00Z'), imagePullGraceMs: 30_000, unschedulableGraceMs: 10_000, nodePoolLabel: 'cloud.google.com/gke-nodepool' };
  const pod = (status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod => ({
    metadata: { name: 'p1', creationTimestamp: new Date('2026-01-01T00:00:00Z'), ...extra.metadata },
    spec: { containers: [{ name: 'attempt', image: 'sluice:1', resources: { limits: { memory: '64Mi' } } }], nodeSelector: { 'cloud.google.com/gke-nodepool': 'nope' }, ...extra.spec },
    status,
  });
  const terminated = (exitCode: number, reason = 'Error') => ({ phase: 'Failed', containerStatuses: [{ name: 'attempt', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason } } }] });
  const failure = (p: V1Pod, deleted = false) => {
    const r = podOutcome(p, deleted, o);
    return r.state === 'failed' ? r.failure : r.state;
  };

  it('an exit the worker reported (0, 10, 11) is left to the worker', () => {
    for (const code of [0, 10, 11]) assert.equal(failure(pod(terminated(code))), 'reported');
    assert.equal(failure(pod({ phase: 'Succeeded' }), true), 'reported');
  });

  it('OOMKilled names the memory limit and is retryable', () => {
    const f = failure(pod(terminated(137, 'OOMKilled')));
    assert.equal(typeof f === 'object' && f.code, 'oom_killed');
    assert.match(typeof f === 'object' ? f.message : '', /OOMKilled.*limit of 64Mi/);
  });

  it('a pod whose node went away is node_lost, naming the node, and retryable; while it is still being deleted it is running', () => {
    const onNode = { spec: { nodeName: 'pool-a-7x', containers: [{ name: 'attempt', image: 'sluice:1' }] } };
    const tainted = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };
    const f = failure(pod({ phase: 'Running', conditions: [tainted] }, onNode), true);
    assert.equal(typeof f === 'object' && f.code, 'node_lost');
    assert.match(typeof f === 'object' ? f.message : '', /pod p1 lost its node pool-a-7x \(DeletionByTaintManager: Taint manager: deleting due to NoExecute taint\)/);
    assert.equal(typeof f === 'object' && f.retryable, true);
    const gc = failure(pod({ phase: 'Failed', conditions: [{ ...tainted, reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }] }, onNode));
    assert.equal(typeof gc === 'object' && gc.code, 'node_lost');
    assert.equal(failure(pod({ phase: 'Running', conditions: [tainted] }, { ...onNode, metadata: { name: 'p1', deletionTimestamp: new Date() } })), 'running', 'its worker gets its grace period first');
  });

  it('an eviction, a deletion and a worker that died unreported are retryable failures', () => {
    const evicted = failure(pod({ ...terminated(143), conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }] }));
    assert.equal(typeof evicted === 'object' && evicted.code, 'evicted');
    assert.equal(typeof evicted === 'object' && evicted.retryable, true);
    const gone = failure(pod({ phase: 'Running' }), true);
    assert.equal(typeof gone === 'object' && gone.code, 'pod_deleted');
    const crashed = failure(pod(terminated(2)));
    assert.equal(typeof crashed === 'object' && crashed.code, 'worker_exit');
    assert.match(typeof crashed === 'object' ? crashed.message : '', /exit code 2 before it could report/);
  });

  it('a pod being deleted is still running until its worker ends', () => {
    assert.equal(failure(pod({ phase: 'Running' }, { metadata: { name: 'p1', deletionTimestamp: new Date() } })), 'running');
  });

  it('unschedulable past its grace fails without retry, naming the nodeSelector', () => {
    const status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/4 nodes are available' }] };
    const f = failure(pod(status));
    assert.equal(typeof f === 'object' && f.code, 'unschedulable');
    assert.equal(typeof f === 'object' && f.retryable, false);
    assert.match(typeof f === 'object' ? f.message : '', /nodeSelector cloud\.google\.com\/gke-nodepool=nope.*node pool "nope"/);
    assert.equal(podOutcome(pod(status), false, { ...o, unschedulableGraceMs: 120_000 }).state, 'waiting');
  });

  it('an image that cannot be pulled fails without retry after its grace', () => {
    const status = (reason: string) => ({ phase: 'Pending', containerStatuses: [{ name: 'attempt', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message: 'not found' } } }] });
    const f = failure(pod(status('ImagePullBackOff')));
    assert.equal(typeof f === 'object' && f.code, 'image_pull');
    assert.match(typeof f === 'object' ? f.message : '', /cannot pull image sluice:1/);
    assert.equal(podOutcome(pod(status('ErrImagePull')), false, { ...o, imagePullGraceMs: 120_000 }).state, 'waiting');
  });

  it('a pod past its deadline fails without retry', () => {
    const f = failure(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }));
    assert.equal(typeof f === 'object' && f.code, 'deadline_exceeded');
    assert.equal(typeof f === 'object' && f.retryable, false);
  });
});

describe('the store settings a pod gets', () => {
  it('make loadConfig open the same bus, warehouse and object store, without secrets', async () => {
    const { loadConfig, storeEnvOf } = await import('../../src/presets/config.ts');
    const env = {
      SLUICE_KAFKA_BROKERS: 'kafka-0:9092,kafka-1:9092', SLUICE_KAFKA_TOPIC_PREFIX: 'prod.', SLUICE_WAREHOUSE_URL: 'http://clickhouse:8123',
      SLUICE_S3_BUCKET: 'lake', SLUICE_S3_ENDPOINT: 'http://minio:9000', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret',
    };
    const config = loadConfig({ env, cwd: process.cwd(), home: '/tmp/x' });
    const podEnv = storeEnvOf(config);
    assert.ok(!Object.values(podEnv).includes('secret'), 'no credentials');
    const again = loadConfig({ env: podEnv, cwd: process.cwd(), home: '/tmp/x' });
    assert.deepEqual(again.bus, config.bus);
    assert.deepEqual(again.warehouse, config.warehouse);
    const { credentials, ...objects } = config.objects as typeof config.objects & { credentials?: unknown };
    assert.ok(credentials, 'the control plane has them');
    assert.deepEqual(again.objects, objects);
    const withPassword = loadConfig({ env: { ...env, SLUICE_WAREHOUSE_URL: 'http://u:pw@clickhouse:8123' }, cwd: process.cwd(), home: '/tmp/x' });
    assert.equal(storeEnvOf(withPassword).SLUICE_WAREHOUSE_URL, undefined, 'a URL with a password is left to a Secret');
  });

  it('give the pod the control plane\'s source policy, restricted unless the config says otherwise', async () => {
    const { loadConfig } = await import('../../src/presets/config.ts');
    const { podEnvOf } = await import('../../src/presets/kubernetes-launcher.ts');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-pod-env-'));
    try {
      const file = join(dir, 'sluice.json');
      writeFileSync(file, JSON.stringify({
        launcher: { kind: 'kubernetes', namespace: 'data', image: 'sluice:1', env: { SLUICE_SOURCE_MAX_BYTES: '1000' } },
        sources: { urlPrefixes: ['https://data.example.org/a,b/', 'http://10.0.0.5:8080/'], allowPrivateNetworks: true, roots: ['/srv/inbox', '/srv/drop'], idleTimeoutMs: 5_000 },
      }));
      const config = loadConfig({ env: { SLUICE_CONFIG: file }, cwd: dir, home: join(dir, 'home') });
      assert.equal(config.launcher.kind, 'kubernetes');
      if (config.launcher.kind !== 'kubernetes') return;
      const pod = loadConfig({ env: podEnvOf(config, config.launcher, 'restricted'), cwd: '/elsewhere', home: '/tmp/pod' });
      assert.deepEqual(pod.sources, { ...config.sources, trust: 'restricted', maxBytes: 1000 }, 'the same policy; the section\'s env has the last word');
      const trusted = loadConfig({ env: podEnvOf(config, config.launcher, 'trusted'), cwd: '/', home: '/tmp/pod' });
      assert.equal(trusted.sources.trust, 'trusted');
      writeFileSync(file, JSON.stringify({ launcher: { kind: 'kubernetes', namespace: 'data', image: 'sluice:1' }, sources: { trust: 'restricted' } }));
      const pinned = loadConfig({ env: { SLUICE_CONFIG: file }, cwd: dir, home: join(dir, 'home') });
      if (pinned.launcher.kind !== 'kubernetes') return;
      const env = podEnvOf(pinned, pinned.launcher, 'trusted');
      assert.equal(env.SLUICE_SOURCE_TRUST, 'restricted', 'the config\'s word beats the command\'s default');
      assert.equal(env.SLUICE_SOURCE_ROOTS, undefined, 'unset roots stay the pod\'s own defaults');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
