import type { V1EnvVar, V1Job, V1ResourceRequirements } from '@kubernetes/client-node';
import { ValidationError } from '../../core/errors.ts';
import type { Placement } from '../../core/placement.ts';
import type { LaunchRequest } from '../../ports/launcher.ts';

/** The env variable the pod's one-shot worker reads its attempt from (`sluice worker --attempt-env`). */
export const ATTEMPT_ENV = 'SLUICE_ATTEMPT';

/** Labels every object Sluice creates carries, so the launcher's informer sees only its own. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  runId: 'sluice.dev/run-id',
  attemptId: 'sluice.dev/attempt-id',
  pipeline: 'sluice.dev/pipeline',
  step: 'sluice.dev/step',
  attempt: 'sluice.dev/attempt',
} as const;
export const MANAGED_SELECTOR = `${LABELS.managedBy}=sluice,${LABELS.component}=attempt`;

/** What the cluster config says about every attempt's Job (src/presets/config.ts, `launcher`). */
export interface AttemptJobSettings {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly serviceAccount: string | null;
  /** The image's entry point; the worker's arguments follow. */
  readonly command: readonly string[];
  /** The node label a step's `nodePool` selects on. */
  readonly nodePoolLabel: string;
  /** For steps that say nothing: resources, node pool, tolerations. */
  readonly defaults: Placement;
  readonly ttlSecondsAfterFinished: number;
  /** Added to a step's timeout for the Job's activeDeadlineSeconds: the worker ends a timed-out attempt itself first. */
  readonly deadlineSlackSeconds: number;
  /** Plain settings for the worker (bus, warehouse, object store addresses): never secrets. */
  readonly env: Readonly<Record<string, string>>;
  /** Secrets as env variables, each one key of a Secret, resolved by the kubelet. */
  readonly secretEnv: readonly { readonly name: string; readonly secret: string; readonly key: string }[];
  readonly tmpSizeLimit: string;
  /**
   * How long a pod stays on a node that stopped answering (not-ready, unreachable) before
   * Kubernetes evicts it and the attempt is retried elsewhere; Kubernetes' default is 300 s.
   */
  readonly nodeLostSeconds: number;
}

/** The taints the node lifecycle controller puts on a node that stops answering. */
const NODE_LOST_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'] as const;

/** Kubernetes keeps a whole object under 1.5 MB; a launch request is far smaller or a mistake. */
const MAX_REQUEST_BYTES = 256 * 1024;

/** The Job's name: from the attempt id (a UUID), within the 63 characters a label value allows. */
export function jobName(attemptId: string): string {
  const clean = attemptId.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 48);
  return `sluice-${clean}`.replace(/-+$/, '');
}

/** A label value as Kubernetes allows it: 63 characters at most, alphanumerics at both ends. */
function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

function resourcesOf(p: Placement): V1ResourceRequirements | undefined {
  const r = p.resources;
  if (!r?.cpu && !r?.memory) return undefined;
  const requests: Record<string, string> = {};
  if (r.cpu) requests.cpu = r.cpu;
  if (r.memory) requests.memory = r.memory;
  // Memory is limited at what was asked, so a step over it is OOMKilled and says so; CPU is
  // not, so a busy step is slowed rather than throttled below its request.
  return { requests, ...(r.memory ? { limits: { memory: r.memory } } : {}) };
}

/**
 * The Job that runs one attempt: one pod that never restarts (Sluice owns retries), the
 * restricted pod security profile, the step's placement over the cluster's defaults, and
 * the attempt handed to the worker in an env variable.
 */
export function buildAttemptJob(req: LaunchRequest, s: AttemptJobSettings): V1Job {
  const attempt = JSON.stringify(req);
  if (Buffer.byteLength(attempt) > MAX_REQUEST_BYTES) {
    throw new ValidationError(`attempt ${req.attemptId}: its launch request is ${Buffer.byteLength(attempt)} bytes; a Job carries at most ${MAX_REQUEST_BYTES} (are the run's params that large?)`, 'params');
  }
  const step = req.placement ?? {};
  const placement: Placement = {
    resources: step.resources ?? s.defaults.resources,
    nodePool: step.nodePool ?? s.defaults.nodePool,
    tolerations: step.tolerations ?? s.defaults.tolerations,
    image: step.image ?? s.defaults.image,
  };
  const labels = {
    [LABELS.managedBy]: 'sluice',
    [LABELS.component]: 'attempt',
    [LABELS.runId]: labelValue(req.runId),
    [LABELS.attemptId]: labelValue(req.attemptId),
    [LABELS.pipeline]: labelValue(req.pipeline),
    [LABELS.step]: labelValue(req.step),
    [LABELS.attempt]: String(req.attempt),
  };
  // Annotations keep the exact values (a label value is cut at 63 characters).
  const annotations = {
    'sluice.dev/run-id': req.runId,
    'sluice.dev/attempt-id': req.attemptId,
    'sluice.dev/pipeline': req.pipeline,
    'sluice.dev/step': req.step,
    ...(req.partition !== null ? { 'sluice.dev/partition': req.partition } : {}),
  };
  const env: V1EnvVar[] = [
    { name: ATTEMPT_ENV, value: attempt },
    ...Object.entries(s.env).map(([name, value]) => ({ name, value })),
    ...s.secretEnv.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } })),
  ];
  const resources = resourcesOf(placement);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(req.attemptId), namespace: s.namespace, labels, annotations },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      ...(req.timeoutMs !== null ? { activeDeadlineSeconds: Math.ceil(req.timeoutMs / 1000) + s.deadlineSlackSeconds } : {}),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          ...(s.serviceAccount ? { serviceAccountName: s.serviceAccount } : {}),
          // The worker talks to Kafka, the warehouse and the object store, never to the API server.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(placement.nodePool ? { nodeSelector: { [s.nodePoolLabel]: placement.nodePool } } : {}),
          tolerations: [
            ...(placement.tolerations ?? []).map((t) => ({ ...t })),
            ...NODE_LOST_TAINTS.map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: s.nodeLostSeconds })),
          ],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [{
            name: 'attempt',
            image: placement.image ?? s.image,
            imagePullPolicy: s.imagePullPolicy,
            command: [...s.command],
            args: ['worker', '--attempt-env', ATTEMPT_ENV],
            env,
            ...(resources ? { resources } : {}),
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: s.tmpSizeLimit } }],
        },
      },
    },
  };
}
