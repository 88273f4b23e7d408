import type { V1Pod } from '@kubernetes/client-node';

/**
 * Exit codes of `sluice worker --attempt-env`: the attempt ended and said so on the bus.
 * Any other code (or none: OOMKilled, deleted, evicted) means the worker could not report,
 * and the launcher reports for it.
 */
export const WORKER_EXIT = { succeeded: 0, failed: 10, cancelled: 11 } as const;
const REPORTED = new Set<number>(Object.values(WORKER_EXIT));

export interface PodFailure {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly nonRetryableReason?: string;
}

export type PodOutcome =
  | { readonly state: 'waiting' | 'running' | 'reported' }
  | { readonly state: 'failed'; readonly failure: PodFailure };

export interface OutcomeOptions {
  readonly now: number;
  /** How long a pod may wait for its image before the attempt fails (not retried). */
  readonly imagePullGraceMs: number;
  /** How long a pod may stay unschedulable before the attempt fails (not retried). */
  readonly unschedulableGraceMs: number;
  /** The node label a step's nodePool selects on, to name it when nothing matches. */
  readonly nodePoolLabel: string;
}

const IMAGE_WAIT = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
/**
 * DisruptionTarget reasons that mean the node went away: its NoExecute not-ready /
 * unreachable taint outlasted the pod's toleration, or the node object is gone and the pod
 * garbage collector removed its orphans.
 */
const NODE_LOST = new Set(['DeletionByTaintManager', 'DeletionByPodGC']);

const since = (t: Date | string | undefined, now: number): number => (t ? now - new Date(t).getTime() : 0);

function selectorText(pod: V1Pod): string {
  const sel = pod.spec?.nodeSelector ?? {};
  const parts = Object.entries(sel).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `nodeSelector ${parts.join(', ')}` : 'no nodeSelector';
}

/**
 * What Kubernetes says about an attempt's pod, as the attempt's outcome: still waiting or
 * running, ended and reported by the worker itself, or failed in a way the worker could not
 * report (OOMKilled, evicted, node lost, deleted, deadline, image, unschedulable), with the reason a
 * user reads. `deleted` is true once the pod object is gone.
 */
export function podOutcome(pod: V1Pod, deleted: boolean, o: OutcomeOptions): PodOutcome {
  const name = pod.metadata?.name ?? '(unnamed pod)';
  const status = pod.status ?? {};
  const container = status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const disruption = status.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (disruption && NODE_LOST.has(disruption.reason ?? '') && (deleted || terminated || status.phase === 'Failed')) {
    const node = pod.spec?.nodeName ?? '(no node)';
    return failed('node_lost', `pod ${name} lost its node ${node} (${disruption.reason}: ${disruption.message ?? 'no message'}); the attempt is retried elsewhere`, true);
  }
  if (terminated) {
    if (terminated.reason === 'OOMKilled') {
      const limit = pod.spec?.containers?.[0]?.resources?.limits?.memory;
      return failed('oom_killed', `pod ${name} was OOMKilled: the step used more memory than its limit${limit ? ` of ${limit}` : ''} (raise placement.resources.memory)`, true);
    }
    if (REPORTED.has(terminated.exitCode) && !disruption) return { state: 'reported' };
    const how = terminated.signal ? `signal ${terminated.signal}` : `exit code ${terminated.exitCode}`;
    if (disruption) return failed('evicted', `pod ${name} was stopped by Kubernetes (${disruption.reason ?? 'DisruptionTarget'}: ${disruption.message ?? 'no message'}) with ${how}`, true);
    if (pod.metadata?.deletionTimestamp || deleted) return failed('pod_deleted', `pod ${name} was deleted while the attempt ran (its worker ended with ${how})`, true);
    return failed('worker_exit', `the worker in pod ${name} ended with ${how}${terminated.message ? `: ${terminated.message}` : ''} before it could report the attempt`, true);
  }
  if (status.phase === 'Failed') {
    if (status.reason === 'DeadlineExceeded') return failed('deadline_exceeded', `pod ${name} ran past its Job's deadline and was stopped`, false, 'the attempt ran past its timeout');
    if (status.reason === 'Evicted' || disruption) {
      return failed('evicted', `pod ${name} was evicted: ${status.message ?? disruption?.message ?? disruption?.reason ?? 'no message'}`, true);
    }
    return failed('pod_failed', `pod ${name} failed (${status.reason ?? 'no reason'}: ${status.message ?? 'no message'})`, true);
  }
  if (deleted || pod.metadata?.deletionTimestamp) {
    if (status.phase === 'Succeeded') return { state: 'reported' };
    const why = disruption ? ` (${disruption.reason ?? 'DisruptionTarget'}: ${disruption.message ?? 'no message'})` : '';
    // A pod being deleted has not ended yet: its worker gets SIGTERM and its grace period.
    if (!deleted) return { state: status.phase === 'Running' ? 'running' : 'waiting' };
    return failed(disruption ? 'evicted' : 'pod_deleted', `pod ${name} was deleted before the attempt ended${why}`, true);
  }
  if (status.phase === 'Succeeded') return { state: 'reported' };
  const waiting = container?.state?.waiting;
  if (waiting?.reason && IMAGE_WAIT.has(waiting.reason)) {
    const started = status.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime ?? pod.metadata?.creationTimestamp;
    if (waiting.reason === 'InvalidImageName' || since(started, o.now) >= o.imagePullGraceMs) {
      const image = pod.spec?.containers?.[0]?.image ?? '(none)';
      return failed('image_pull', `pod ${name} cannot pull image ${image} (${waiting.reason}: ${waiting.message ?? 'no message'})`, false, 'the image cannot be pulled; retrying would not change that');
    }
    return { state: 'waiting' };
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    if (since(pod.metadata?.creationTimestamp, o.now) >= o.unschedulableGraceMs) {
      const pool = pod.spec?.nodeSelector?.[o.nodePoolLabel];
      const hint = pool !== undefined ? ` (is node pool "${pool}" spelled right, and does it have nodes?)` : '';
      return failed('unschedulable', `pod ${name} cannot be scheduled: no node fits ${selectorText(pod)}${hint}; the scheduler says: ${scheduled.message ?? 'no message'}`, false, 'no node can run the attempt');
    }
    return { state: 'waiting' };
  }
  return { state: status.phase === 'Running' ? 'running' : 'waiting' };
}

function failed(code: string, message: string, retryable: boolean, nonRetryableReason?: string): PodOutcome {
  return { state: 'failed', failure: { code, message, retryable, ...(nonRetryableReason ? { nonRetryableReason } : {}) } };
}
