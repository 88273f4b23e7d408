import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** The label a control plane's pod carries: `true` on the leader, `false` on a standby. */
export const LEADER_LABEL = 'sluice.dev/leader';

export interface PodLeaderLabelOptions {
  /** A kubeconfig file; null: the pod's service account (in-cluster). */
  readonly kubeconfig: string | null;
  readonly namespace: string;
  readonly name: string;
  /** How long `set` keeps trying before it gives up. */
  readonly timeoutMs?: number;
}

/**
 * Labels this process's own pod as leader or standby, so a Service that selects
 * `sluice.dev/leader=true` sends the API to the leader alone, while every replica can be
 * Ready (rollouts, PodDisruptionBudgets and `helm --wait` then work with two replicas).
 * `set` retries until the API server takes the patch or the timeout passes, then throws.
 */
export function podLeaderLabel(o: PodLeaderLabelOptions): { set(leader: boolean): Promise<void> } {
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromCluster();
  const core = kc.makeApiClient(CoreV1Api);
  const timeoutMs = o.timeoutMs ?? 15_000;
  return {
    async set(leader) {
      const end = Date.now() + timeoutMs;
      const body = { metadata: { labels: { [LEADER_LABEL]: String(leader) } } };
      for (let delay = 200; ; delay = Math.min(delay * 2, 2_000)) {
        let timer: NodeJS.Timeout | undefined;
        try {
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('no answer from the API server')), Math.max(1_000, end - Date.now()));
          });
          await Promise.race([core.patchNamespacedPod({ name: o.name, namespace: o.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)), late]);
          return;
        } catch (err) {
          if (Date.now() + delay > end) {
            throw new Error(`could not label pod ${o.namespace}/${o.name} ${LEADER_LABEL}=${leader}: ${(err as Error).message.slice(0, 300)}`, { cause: err });
          }
          await new Promise((r) => setTimeout(r, delay));
        } finally {
          clearTimeout(timer);
        }
      }
    },
  };
}
