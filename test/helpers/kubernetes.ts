import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { AttemptJobSettings } from '../../src/adapters/kubernetes/attempt-job.ts';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import { KubernetesLauncher } from '../../src/adapters/kubernetes/kubernetes-launcher.ts';
import { TOPICS, type EventBus } from '../../src/ports/event-bus.ts';
import { PodRunner } from './pod-runner.ts';
import { service } from './services.ts';

const noop = () => undefined;
export const quietLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** What a test needs to run attempts as Jobs on the real control plane from scripts/kubernetes.sh. */
export interface KubernetesStack {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly bus: EventBus;
  readonly launcher: KubernetesLauncher;
  readonly runner: PodRunner;
  /** The env the pods' workers get: Kafka and the ClickHouse server, a home of their own. */
  readonly podEnv: Record<string, string>;
  readonly brokers: string;
  readonly topicPrefix: string;
  readonly warehouseUrl: string;
  readonly home: string;
  close(): Promise<void>;
}

/**
 * Starts (or reuses) the Kubernetes control plane, Kafka and the ClickHouse server; makes a
 * namespace of its own labelled for the `restricted` pod security level; starts the pod
 * runner on the runner node and a Kubernetes launcher for that namespace. Undefined (the
 * test skipped) off CI when a service is not installed.
 */
export async function kubernetesStack(t: TestContext | undefined, o: { heartbeatMs?: number; job?: Partial<AttemptJobSettings>; pipelines?: string[] } = {}): Promise<KubernetesStack | undefined> {
  const kubeconfig = await service('kubernetes', t);
  const brokers = await service('kafka', t);
  const warehouseUrl = await service('clickhouse', t);
  if (!kubeconfig || !brokers || !warehouseUrl) return undefined;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const id = randomUUID().slice(0, 8);
  const namespace = `sluice-test-${id}`;
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } },
  });
  const topicPrefix = `k8s.${id}.`;
  const home = mkdtempSync(join(tmpdir(), 'sluice-k8s-'));
  const podEnv = {
    SLUICE_KAFKA_BROKERS: brokers,
    SLUICE_KAFKA_TOPIC_PREFIX: topicPrefix,
    SLUICE_WAREHOUSE_URL: warehouseUrl,
    SLUICE_HOME: home,
    SLUICE_HEARTBEAT_MS: String(o.heartbeatMs ?? 500),
    SLUICE_LOG_LEVEL: 'warn',
    ...(o.pipelines ? { SLUICE_PIPELINES: o.pipelines.join(':') } : {}),
  };
  const bus = await createKafkaBus({ bootstrap: [brokers], clientId: `k8s-test-${id}`, topicPrefix, topics: [TOPICS.control, TOPICS.events].map((name) => ({ name, partitions: 3 })) });
  // Topics exist before any pod's worker subscribes, so none of them waits for a creation.
  await bus.publish(TOPICS.control, 'warm-up', { v: 1, type: 'ping', nonce: 'warm-up', workerId: 'nobody', sentAt: new Date().toISOString() });
  const runner = new PodRunner(kubeconfig);
  await runner.start();
  const launcher = new KubernetesLauncher({
    kubeconfig,
    job: {
      namespace, image: 'sluice:test', imagePullPolicy: 'IfNotPresent', serviceAccount: null, command: ['sluice'],
      nodePoolLabel: 'cloud.google.com/gke-nodepool', defaults: { nodePool: 'default' }, ttlSecondsAfterFinished: 300,
      deadlineSlackSeconds: 30, env: podEnv, secretEnv: [], tmpSizeLimit: '1Gi', nodeLostSeconds: 60, ...o.job,
    },
    bus, logger: quietLogger, cancelGraceMs: 10_000, imagePullGraceMs: 5_000, unschedulableGraceMs: 1_000,
  });
  await launcher.start();
  return {
    kubeconfig, namespace, core, bus, launcher, runner, podEnv, brokers, topicPrefix, warehouseUrl, home,
    async close() {
      await launcher.close();
      await runner.close();
      await bus.close();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
