import { AuthorizationV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';

/** What the launcher does in its namespace: without one of these, attempts cannot run. */
const LAUNCHER_VERBS = [
  { group: 'batch', resource: 'jobs', verb: 'create' },
  { group: 'batch', resource: 'jobs', verb: 'delete' },
  { group: '', resource: 'pods', verb: 'watch' },
  { group: '', resource: 'pods', verb: 'delete' },
] as const;

/**
 * Reaches the API server (a kubeconfig file, or the pod's service account when none) and
 * asks it, with SelfSubjectAccessReviews, whether this identity may do what the launcher
 * does in `namespace`. Throws naming each verb it lacks.
 */
export async function probeKubernetes(o: { kubeconfig: string | null; namespace: string }): Promise<string> {
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromCluster();
  const version = await kc.makeApiClient(VersionApi).getCode();
  const auth = kc.makeApiClient(AuthorizationV1Api);
  const denied: string[] = [];
  for (const v of LAUNCHER_VERBS) {
    const review = await auth.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace: o.namespace, group: v.group, resource: v.resource, verb: v.verb } } },
    });
    if (!review.status?.allowed) denied.push(`${v.verb} ${v.resource}`);
  }
  if (denied.length > 0) throw new Error(`API server ${version.gitVersion} reached, but this identity may not ${denied.join(', ')} in namespace ${o.namespace}`);
  return `API server ${version.gitVersion}; may create and delete Jobs and watch pods in namespace ${o.namespace}`;
}
