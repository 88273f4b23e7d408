import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { buildAttemptJob } from '../../src/adapters/kubernetes/attempt-job.ts';
import { kubernetesStack, type KubernetesStack } from '../helpers/kubernetes.ts';

// Admission is the real API server's (PodSecurity at `restricted` on the test namespace):
// the pod the launcher builds is admitted, a privileged one is refused with the reason.
describe('pod security admission on the launcher pods', () => {
  let stack: KubernetesStack | undefined;
  before(async (t) => {
    stack = await kubernetesStack(t as never);
  });
  after(() => stack?.close());

  const settings = () => ({
    namespace: stack!.namespace, image: 'sluice:test', imagePullPolicy: 'IfNotPresent' as const, serviceAccount: null, command: ['sluice'],
    nodePoolLabel: 'cloud.google.com/gke-nodepool', defaults: {}, ttlSecondsAfterFinished: 60, deadlineSlackSeconds: 30, env: {}, secretEnv: [], tmpSizeLimit: '1Gi', nodeLostSeconds: 60,
  });
  const podOf = (spec: V1Pod['spec'], name: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
  const request = { runId: 'r1', attemptId: 'a1', attempt: 1, pipeline: 'dummy', step: 'load', params: {}, partition: null, timeoutMs: 1000 };

  it('admits the pod a launcher Job creates in a restricted namespace', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const job = buildAttemptJob(request, settings());
    const pod = await stack.core.createNamespacedPod({ namespace: stack.namespace, body: podOf(job.spec?.template.spec, 'admitted'), dryRun: 'All' });
    assert.equal(pod.metadata?.name, 'admitted');
  });

  it('refuses a pod that breaks the restricted profile, saying which rules, and any privileged pod', async (t) => {
    if (!stack) return t.skip('no Kubernetes here');
    const spec = buildAttemptJob(request, settings()).spec?.template.spec;
    const container = { ...spec!.containers[0]!, securityContext: { allowPrivilegeEscalation: true, runAsNonRoot: false, capabilities: { add: ['SYS_ADMIN'] } } };
    const bad = podOf({ ...spec!, containers: [container], securityContext: {} }, 'privileged');
    await assert.rejects(stack.core.createNamespacedPod({ namespace: stack.namespace, body: bad, dryRun: 'All' }), (err: unknown) => {
      assert.ok(err instanceof ApiException, String(err));
      const body = (JSON.parse(String(err.body)) as { message: string }).message;
      assert.equal(err.code, 403, body.slice(0, 500));
      assert.match(body, /violates PodSecurity "restricted:latest"/);
      assert.match(body, /allowPrivilegeEscalation != false/);
      assert.match(body, /must not include "SYS_ADMIN"/);
      return true;
    });
    // Privileged containers are refused by the API server itself (--allow-privileged is off).
    const privileged = podOf({ ...spec!, containers: [{ ...container, securityContext: { privileged: true } }] }, 'privileged');
    await assert.rejects(stack.core.createNamespacedPod({ namespace: stack.namespace, body: privileged, dryRun: 'All' }), (err: unknown) =>
      err instanceof ApiException && err.code === 422 && /privileged: Forbidden/.test(String(err.body)));
  });
});
