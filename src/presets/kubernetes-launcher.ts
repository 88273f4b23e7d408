import type { KubernetesLauncher } from '../adapters/kubernetes/kubernetes-launcher.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { Logger } from '../runtime/services.ts';
import type { SluiceConfig } from './config.ts';

export type KubernetesLauncherSection = Extract<SluiceConfig['launcher'], { kind: 'kubernetes' }>;

const hasPassword = (u: string): boolean => {
  try {
    return new URL(u).password !== '';
  } catch {
    return false;
  }
};

/**
 * The settings a pod's worker needs to reach what this control plane uses (the bus, the
 * warehouse, the object store), as env variables `loadConfig` reads. Nothing secret: a URL
 * with a password and the S3 credentials are left to `secretEnv`. The section's own `env`
 * has the last word.
 */
export function podEnvOf(config: SluiceConfig, section: KubernetesLauncherSection): Record<string, string> {
  const env: Record<string, string> = { SLUICE_HEARTBEAT_MS: String(config.heartbeatMs), SLUICE_LOG_LEVEL: config.logLevel };
  if (config.bus.kind === 'kafka') {
    env.SLUICE_KAFKA_BROKERS = config.bus.brokers.join(',');
    if (config.bus.topicPrefix) env.SLUICE_KAFKA_TOPIC_PREFIX = config.bus.topicPrefix;
  }
  if (config.warehouse.kind === 'clickhouse' && !hasPassword(config.warehouse.url)) env.SLUICE_WAREHOUSE_URL = config.warehouse.url;
  if (config.objects.kind === 's3') {
    env.SLUICE_S3_BUCKET = config.objects.bucket;
    if (config.objects.prefix) env.SLUICE_S3_PREFIX = config.objects.prefix;
    if (config.objects.endpoint) env.SLUICE_S3_ENDPOINT = config.objects.endpoint;
    env.SLUICE_S3_REGION = config.objects.region;
  }
  return { ...env, ...section.env };
}

/** The Kubernetes launcher for a config's `launcher` section, its pod informer started. */
export async function openKubernetesLauncher(config: SluiceConfig, section: KubernetesLauncherSection, bus: EventBus, logger: Logger): Promise<KubernetesLauncher> {
  const { KubernetesLauncher } = await import('../adapters/kubernetes/kubernetes-launcher.ts');
  const launcher = new KubernetesLauncher({
    kubeconfig: section.kubeconfig ?? null,
    job: {
      namespace: section.namespace, image: section.image, imagePullPolicy: section.imagePullPolicy, serviceAccount: section.serviceAccount ?? null,
      command: section.command, nodePoolLabel: section.nodePoolLabel, defaults: section.defaults, ttlSecondsAfterFinished: section.ttlSecondsAfterFinished,
      deadlineSlackSeconds: section.deadlineSlackSeconds, env: podEnvOf(config, section), secretEnv: section.secretEnv, tmpSizeLimit: section.tmpSizeLimit,
    },
    bus, logger,
    cancelGraceMs: section.cancelGraceMs, imagePullGraceMs: section.imagePullGraceMs, unschedulableGraceMs: section.unschedulableGraceMs,
  });
  await launcher.start();
  return launcher;
}
