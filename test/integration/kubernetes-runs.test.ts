import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BatchV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { LABELS } from '../../src/adapters/kubernetes/attempt-job.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { openControlPlane, type ControlPlane } from '../../src/presets/runtime.ts';
import { klineLine, klineLineSql, klineRecords } from '../helpers/kline-records.ts';
import { kubernetesStack, type KubernetesStack } from '../helpers/kubernetes.ts';
import { until } from '../helpers/until.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/kubernetes-pipelines/', import.meta.url));
// klines-connect: a connector alone, sluice.data.test-klines → stream_test.klines;
// klines-scale: the same scaling on lag (up to 3 replicas), into stream_test.scale_klines.
const STREAMS = fileURLToPath(new URL('../fixtures/stream-pipelines/', import.meta.url));

// Runs through the whole control plane with the Kubernetes launcher: every attempt a Job on
// the real API server (scripts/kubernetes.sh), its pod run by the pod runner (or ended by a
// kwok stage), the workers on Kafka and the ClickHouse server.
describe('runs on Kubernetes (a Job per attempt)', () => {
  let stack: KubernetesStack | undefined;
  let cp: ControlPlane;
  let batch: BatchV1Api;

  before(async (t) => {
    stack = await kubernetesStack(t as never, { pipelines: [FIXTURES, STREAMS] });
    if (!stack) return;
    const file = join(stack.home, 'sluice.json');
    writeFileSync(file, JSON.stringify({
      launcher: {
        kind: 'kubernetes', namespace: stack.namespace, kubeconfig: stack.kubeconfig, image: 'sluice:test',
        defaults: { nodePool: 'default' }, unschedulableGraceMs: 1_000, env: { SLUICE_HOME: stack.home, SLUICE_PIPELINES: `${FIXTURES}:${STREAMS}` },
        // The node-lost test's taint evicts at once; in production a minute (Kubernetes: 5).
        nodeLostSeconds: 0,
      },
    }));
    const config = loadConfig({
      env: { SLUICE_CONFIG: file, SLUICE_KAFKA_BROKERS: stack.brokers, SLUICE_KAFKA_TOPIC_PREFIX: stack.topicPrefix, SLUICE_WAREHOUSE_URL: stack.warehouseUrl, SLUICE_HEARTBEAT_MS: '500', SLUICE_SCALE_CHECK_MS: '250' },
      cwd: process.cwd(), home: join(stack.home, 'control-plane'), pipelines: [FIXTURES, STREAMS], logLevel: 'silent',
    });
    cp = await openControlPlane(config);
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    batch = kc.makeApiClient(BatchV1Api);
  });
  after(async () => {
    await cp?.close();
    await stack?.close();
  });

  const jobsOf = async (runId: string) =>
    (await batch.listNamespacedJob({ namespace: stack!.namespace, labelSelector: `${LABELS.runId}=${runId}` })).items;

  it('runs the dummy pipeline: every attempt is a Job, run by the pod runner, and the run succeeds', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const before = stack.runner.started;
    const { run, done } = await cp.coordinator.submit({ pipeline: 'dummy', partition: '2024-01-02', params: { records: 50, rate: 2_000 } });
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.attempts.map((a) => a.failure)));
    const jobs = await jobsOf(run.id);
    assert.equal(jobs.length, detail.attempts.length, 'one Job per attempt');
    assert.ok(jobs.every((j) => j.spec?.template.spec?.securityContext?.runAsNonRoot === true));
    assert.equal(stack.runner.started - before, detail.attempts.length, 'the pod runner ran each pod');
  });

  it('a step whose node pool has no node fails fast, not retried, naming the nodeSelector', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const started = Date.now();
    const { done } = await cp.coordinator.submit({ pipeline: 'nowhere', params: {} });
    const detail = await done;
    const seconds = (Date.now() - started) / 1000;
    assert.equal(detail.run.status, 'failed');
    assert.equal(detail.attempts.length, 1, 'an unschedulable attempt is not retried');
    const f = detail.attempts[0]?.failure;
    assert.equal(f?.code, 'unschedulable', JSON.stringify(f));
    assert.match(f?.message ?? '', /cloud\.google\.com\/gke-nodepool=nope/);
    assert.ok(seconds < 15, `reported within ${seconds.toFixed(1)} s`);
  });

  it('a pod over its memory limit is reported OOMKilled and retried per the step policy', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const { done } = await cp.coordinator.submit({ pipeline: 'oom', params: {} });
    const detail = await done;
    assert.equal(detail.run.status, 'failed');
    assert.equal(detail.attempts.length, 2, 'retried once (maxAttempts 2)');
    for (const a of detail.attempts) {
      assert.equal(a.failure?.code, 'oom_killed', JSON.stringify(a.failure));
      assert.match(a.failure?.message ?? '', /OOMKilled.*64Mi/);
    }
  });

  it('a node that stops answering (its NoExecute unreachable taint) evicts the pod: node_lost, naming the node; the retry succeeds', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const node = 'sluice-runner-lost';
    const { run, done } = await cp.coordinator.submit({ pipeline: 'node-lost', params: {} });
    let running: string | undefined;
    for (const end = Date.now() + 60_000; !running && Date.now() < end;) {
      const pods = (await stack.core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.runId}=${run.id}` })).items;
      running = pods.find((p) => p.status?.phase === 'Running' && p.spec?.nodeName === node)?.metadata?.name;
      if (!running) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(running, `a pod ran on ${node}`);
    // What the node lifecycle controller does when a node's heartbeats stop; the real taint
    // eviction controller takes it from there.
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date() };
    const patch = (taints: unknown[]) => stack!.core.patchNode({ name: node, body: { spec: { taints } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await patch([taint]);
    try {
      for (const end = Date.now() + 30_000; ;) {
        const pods = (await stack.core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.runId}=${run.id}` })).items;
        if (!pods.some((p) => p.metadata?.name === running)) break;
        if (Date.now() > end) assert.fail(`pod ${running} was not evicted from the tainted node`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await patch([]);
    }
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.attempts.map((a) => a.failure)));
    assert.equal(detail.attempts.length, 2, JSON.stringify(detail.attempts.map((a) => a.failure)));
    const f = detail.attempts[0]?.failure;
    assert.equal(f?.code, 'node_lost', JSON.stringify(f));
    assert.match(f?.message ?? '', new RegExp(`pod ${running} lost its node ${node} \\(DeletionByTaintManager`));
  });

  it('deleting a running pod (an eviction) fails that attempt; the retry succeeds', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const { run, done } = await cp.coordinator.submit({ pipeline: 'dummy', partition: '2024-01-03', params: { records: 1_200, rate: 400 } });
    const deadline = Date.now() + 60_000;
    let deleted: string | null = null;
    while (!deleted && Date.now() < deadline) {
      const pods = (await stack.core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.runId}=${run.id},${LABELS.step}=load` })).items;
      const running = pods.find((p) => p.status?.phase === 'Running');
      if (running?.metadata?.name) {
        await new Promise((r) => setTimeout(r, 500));
        await stack.core.deleteNamespacedPod({ name: running.metadata.name, namespace: stack.namespace });
        deleted = running.metadata.name;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(deleted, 'a load pod ran');
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.attempts.map((a) => a.failure)));
    const load = detail.attempts.filter((a) => a.step === 'load');
    assert.equal(load.length, 2, JSON.stringify(load));
    assert.equal(load[0]?.failure?.code, 'pod_deleted', JSON.stringify(load[0]?.failure));
    assert.match(load[0]?.failure?.message ?? '', new RegExp(`pod ${deleted} was deleted`));
  });

  it('a stream runs as a long-lived Job pod: no deadline, its pod deleted mid-stream → restarted from its offsets, every candle exactly once; stop → succeeded', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const warehouse = cp.services.warehouse;
    await warehouse.command('DROP DATABASE IF EXISTS stream_test SYNC');
    const count = async (sql: string) => Number((await warehouse.query<{ n: number | string }>(sql).catch(() => [{ n: 0 }]))[0]!.n);
    const rows = () => count('SELECT count() AS n FROM stream_test.klines');
    const candles = klineRecords('ALGOUSDT');
    const topic = 'sluice.data.test-klines';
    const { run, done } = await cp.coordinator.submit({ pipeline: 'klines-connect' });
    const podsOf = async () => (await stack!.core.listNamespacedPod({ namespace: stack!.namespace, labelSelector: `${LABELS.runId}=${run.id},${LABELS.step}=connect` })).items;
    const running = async () => (await podsOf()).filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    // The candles arrive over some seconds, as a feed publishes them: most of them after the pod is deleted.
    const feeding = (async () => {
      for (let i = 0; i < candles.length; i += 2_016) {
        await cp.services.topics.produce(topic, candles.slice(i, i + 2_016).map((c) => ({ key: `${c.symbol}/${c.open_time}`, value: JSON.stringify(c) })));
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    await until('the connector pod writing', async () => (await running()).length === 1 && (await rows()) >= 4_000, 120_000);
    const [job] = (await jobsOf(run.id)).filter((j) => j.metadata?.labels?.[LABELS.step] === 'connect');
    assert.equal(job?.spec?.activeDeadlineSeconds, undefined, 'a stream\'s Job has no deadline: it runs until stopped');
    const [victim] = await running();
    await stack.core.deleteNamespacedPod({ name: victim!, namespace: stack.namespace });
    const at = await rows();
    assert.ok(at < candles.length / 2, `the pod was deleted mid-stream (${at} of ${candles.length} rows in)`);
    await until('a new pod for the stream', async () => (await running()).some((name) => name !== victim), 120_000);
    await feeding;
    await until('the stream caught up', async () => (await rows()) >= candles.length, 180_000);
    // Live: what arrives now is written too.
    const more = klineRecords('DOTUSDT').slice(0, 1_000);
    await cp.services.topics.produce(topic, more.map((c) => ({ key: `${c.symbol}/${c.open_time}`, value: JSON.stringify(c) })));
    await until('the new candles written', async () => (await rows()) >= candles.length + more.length, 60_000);
    assert.ok(await cp.coordinator.cancel(run.id, 'stopped by the test'));
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.attempts.map((a) => a.failure)));
    const connect = detail.attempts.filter((a) => a.step === 'connect');
    assert.equal(connect[0]?.failure?.code, 'pod_deleted', JSON.stringify(connect.map((a) => a.failure)));
    assert.ok(connect.length >= 2 && connect.at(-1)?.status === 'succeeded', JSON.stringify(connect.map((a) => [a.status, a.failure?.code])));
    assert.equal(await rows(), candles.length + more.length, 'no duplicate without FINAL');
    assert.equal(await count('SELECT count() AS n FROM stream_test.klines FINAL'), candles.length + more.length, 'no candle lost');
    const lines = (await warehouse.query<{ line: string }>(klineLineSql('stream_test.klines'))).map((r) => r.line);
    const want = [...candles, ...more].map(klineLine).sort();
    assert.deepEqual(lines.toSorted(), want, 'every row equal to its CSV line');
    await warehouse.command('DROP DATABASE IF EXISTS stream_test SYNC');
  });
  it('a stream scaled on lag: a backlog runs it as 3 pods, a partition each, then as 1 again; every candle once', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const warehouse = cp.services.warehouse;
    await warehouse.command('DROP TABLE IF EXISTS stream_test.scale_klines SYNC');
    const count = async (sql: string) => Number((await warehouse.query<{ n: number | string }>(sql).catch(() => [{ n: 0 }]))[0]!.n);
    const rows = () => count('SELECT count() AS n FROM stream_test.scale_klines');
    const candles = ['ALGOUSDT', 'AVAXUSDT'].flatMap(klineRecords);
    const topic = 'sluice.data.test-scale-klines';
    for (let i = 0; i < candles.length; i += 10_000) {
      await cp.services.topics.produce(topic, candles.slice(i, i + 10_000).map((c) => ({ key: `${c.symbol}/${c.open_time}`, value: JSON.stringify(c) })));
    }
    const { run, done } = await cp.coordinator.submit({ pipeline: 'klines-scale' });
    const running = async () => (await stack!.core.listNamespacedPod({ namespace: stack!.namespace, labelSelector: `${LABELS.runId}=${run.id},${LABELS.step}=connect` })).items
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    await until('3 connector pods running at once', async () => (await running()).length === 3, 180_000, 100);
    await until('every candle written', async () => (await rows()) >= candles.length, 180_000);
    await until('back to 1 pod', async () => (await running()).length === 1 && cp.coordinator.activeStreams().find((s) => s.stream === 'klines-scale.connect')?.replicas === 1, 180_000, 100);
    assert.ok(await cp.coordinator.cancel(run.id, 'stopped by the test'));
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify({ steps: detail.steps, attempts: detail.attempts }));
    assert.deepEqual(new Set(detail.attempts.map((a) => a.step)), new Set(['schema', 'connect', 'connect[1]', 'connect[2]']));
    const jobs = await jobsOf(run.id);
    assert.equal(jobs.length, detail.attempts.length, 'one Job per attempt of every replica');
    assert.equal(await rows(), candles.length, 'no duplicate without FINAL');
    assert.equal(await count('SELECT count() AS n FROM stream_test.scale_klines FINAL'), candles.length, 'no candle lost');
    const events = await cp.services.metadata.runs.events({ runId: run.id, limit: 10_000 });
    assert.deepEqual(events.filter((e) => e.type === 'stream.scaled').map((e) => [e.payload.from, e.payload.to]).at(0), [1, 3]);
    await warehouse.command('DROP TABLE IF EXISTS stream_test.scale_klines SYNC');
  });
});
