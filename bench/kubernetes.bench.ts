// The Kubernetes launcher against the real control plane of scripts/kubernetes.sh:
// - launch latency: `launch()` → Job created → pod Running (pod runner) → `attempt.started`
//   on the bus, p50/p99, next to the same attempts on a warm worker pool on the same Kafka;
// - throughput: 200 attempts at once on kwok nodes (whose stages end each pod at once, so
//   what is measured is Job → scheduler → pod → informer), and the API requests per attempt
//   the launcher made (informer list and watch included): it must not poll.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../src/adapters/kubernetes/attempt-job.ts';
import { WorkerPool } from '../src/adapters/subprocess/worker-pool.ts';
import { TOPICS } from '../src/ports/event-bus.ts';
import type { LaunchRequest, Launcher } from '../src/ports/launcher.ts';
import { BusLauncher } from '../src/runtime/bus-launcher.ts';
import { kubernetesStack, quietLogger } from '../test/helpers/kubernetes.ts';

const BENCH_PIPELINES = fileURLToPath(new URL('./pipelines/', import.meta.url));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const request = (step = 's0'): LaunchRequest => ({
  runId: randomUUID(), attemptId: randomUUID(), attempt: 1, pipeline: 'bench-noop-fan', step, params: {}, partition: null, timeoutMs: null,
});

export async function benchKubernetes(attempts = 100, parallel = 5, burst = 200): Promise<Record<string, number | string>> {
  const stack = await kubernetesStack(undefined, { pipelines: [BENCH_PIPELINES] });
  if (!stack) throw new Error('Kubernetes, Kafka or the ClickHouse server is not installed (scripts/*.sh install)');
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  const sub = await stack.bus.subscribe(TOPICS.events, { group: `bench-k8s-${randomUUID()}` }, (m) => {
    const e = m.value as { type?: string; attemptId?: string };
    if (!e.attemptId) return;
    if (e.type === 'attempt.started') started.set(e.attemptId, performance.now());
    if (e.type === 'attempt.succeeded' || e.type === 'attempt.failed') ended.set(e.attemptId, performance.now());
  });
  const wait = async (ids: string[], map: Map<string, number>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (ids.some((id) => !map.has(id))) {
      if (Date.now() > deadline) throw new Error(`timed out: ${ids.filter((id) => !map.has(id)).length} of ${ids.length} attempts`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** Launch latency per attempt, `parallel` at a time. */
  const latencies = async (launcher: Launcher): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < attempts; i += parallel) {
      const batch = Array.from({ length: Math.min(parallel, attempts - i) }, () => request());
      const t0 = new Map(batch.map((r) => [r.attemptId, performance.now()]));
      await Promise.all(batch.map((r) => launcher.launch(r)));
      const ids = batch.map((r) => r.attemptId);
      await wait(ids, started, 120_000);
      await wait(ids, ended, 120_000);
      for (const id of ids) out.push((started.get(id) ?? NaN) - (t0.get(id) ?? NaN));
    }
    return out;
  };
  const pool = new WorkerPool({
    size: 2, bus: stack.bus, bridgeBus: false,
    worker: { home: stack.home, pipelines: [BENCH_PIPELINES], heartbeatMs: 500, logLevel: 'warn', graceMs: 1_000 },
    env: { PATH: process.env.PATH ?? '', ...stack.podEnv }, logger: quietLogger,
  });
  try {
    const k8s = await latencies(stack.launcher);
    const requestsBefore = stack.launcher.requests;
    await pool.start();
    const warm = await latencies(new BusLauncher(stack.bus));
    await pool.close();

    // The burst: on the kwok pool, pods end at once without running anything.
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const done = new Map<string, number>();
    const informer = makeInformer(kc, `/api/v1/namespaces/${stack.namespace}/pods`, () => core.listNamespacedPod({ namespace: stack.namespace }));
    const seen = (p: V1Pod) => {
      const id = p.metadata?.labels?.[LABELS.attemptId];
      if (id && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && !done.has(id)) done.set(id, performance.now());
    };
    informer.on('add', seen);
    informer.on('update', seen);
    await informer.start();
    const burstReqs = Array.from({ length: burst }, () => ({ ...request(), placement: { nodePool: 'kwok' } }));
    const requests0 = stack.launcher.requests;
    const t = performance.now();
    await Promise.all(burstReqs.map((r) => stack.launcher.launch(r)));
    await wait(burstReqs.map((r) => r.attemptId), done, 300_000);
    const burstSecs = (performance.now() - t) / 1000;
    // The launcher's informer has seen them too; give its watch a moment, then count.
    await new Promise((r) => setTimeout(r, 1_000));
    const burstRequests = stack.launcher.requests - requests0;
    await informer.stop();
    return {
      attempts,
      parallel,
      k8s_launch_p50_ms: pct(k8s, 50),
      k8s_launch_p99_ms: pct(k8s, 99),
      warm_launch_p50_ms: pct(warm, 50),
      warm_launch_p99_ms: pct(warm, 99),
      ratio_k8s_vs_warm_p50: pct(k8s, 50) / pct(warm, 50),
      api_requests_per_attempt_latency_run: requestsBefore / attempts,
      burst_attempts: burst,
      burst_seconds: burstSecs,
      burst_attempts_per_s: burst / burstSecs,
      burst_api_requests_per_attempt: burstRequests / burst,
    };
  } finally {
    await pool.close().catch(() => undefined);
    await sub.close();
    await stack.close();
  }
}
