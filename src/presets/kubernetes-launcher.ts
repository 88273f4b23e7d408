import type { KubernetesLauncher } from '../adapters/kubernetes/kubernetes-launcher.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { Logger } from '../runtime/services.ts';
import { storeEnvOf, type SluiceConfig } from './config.ts';

export type KubernetesLauncherSection = Extract<SluiceConfig['launcher'], { kind: 'kubernetes' }>;

/**
 * The settings a pod's worker needs to reach what this control plane uses, as env
 * variables (storeEnvOf: nothing secret), with the section's own `env` having the last word.
 */
export function podEnvOf(config: SluiceConfig, section: KubernetesLauncherSection): Record<string, string> {
  return { ...storeEnvOf(config), ...section.env };
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
