import type { KubernetesLauncher } from '../adapters/kubernetes/kubernetes-launcher.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { Logger } from '../runtime/services.ts';
import { sourcesEnvOf, storeEnvOf, type SluiceConfig } from './config.ts';
import type { SourceTrust } from './source-policy.ts';

export type KubernetesLauncherSection = Extract<SluiceConfig['launcher'], { kind: 'kubernetes' }>;

/**
 * The settings a pod's worker needs to reach what this control plane uses and to enforce
 * the same source policy, as env variables (storeEnvOf: nothing secret), with the section's
 * own `env` having the last word. `trust` is what this control plane grants when the
 * config does not say, so a pod is never trusted where a warm worker would not be.
 */
export function podEnvOf(config: SluiceConfig, section: KubernetesLauncherSection, trust: SourceTrust): Record<string, string> {
  return { ...storeEnvOf(config), ...sourcesEnvOf({ ...config.sources, trust: config.sources.trust ?? trust }), ...section.env };
}

/** The Kubernetes launcher for a config's `launcher` section, its pod informer started. */
export async function openKubernetesLauncher(config: SluiceConfig, section: KubernetesLauncherSection, trust: SourceTrust, bus: EventBus, logger: Logger): Promise<KubernetesLauncher> {
  const { KubernetesLauncher } = await import('../adapters/kubernetes/kubernetes-launcher.ts');
  const launcher = new KubernetesLauncher({
    kubeconfig: section.kubeconfig ?? null,
    job: {
      namespace: section.namespace, image: section.image, imagePullPolicy: section.imagePullPolicy, serviceAccount: section.serviceAccount ?? null,
      command: section.command, nodePoolLabel: section.nodePoolLabel, defaults: section.defaults, ttlSecondsAfterFinished: section.ttlSecondsAfterFinished,
      deadlineSlackSeconds: section.deadlineSlackSeconds, env: podEnvOf(config, section, trust), secretEnv: section.secretEnv, tmpSizeLimit: section.tmpSizeLimit, nodeLostSeconds: section.nodeLostSeconds,
    },
    bus, logger,
    cancelGraceMs: section.cancelGraceMs, imagePullGraceMs: section.imagePullGraceMs, unschedulableGraceMs: section.unschedulableGraceMs,
  });
  await launcher.start();
  return launcher;
}
