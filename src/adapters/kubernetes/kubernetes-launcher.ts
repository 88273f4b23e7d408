import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import { describeError } from '../../core/errors.ts';
import type { AttemptEvent } from '../../core/events.ts';
import { TOPICS, type EventBus } from '../../ports/event-bus.ts';
import type { LaunchRequest, Launcher } from '../../ports/launcher.ts';
import { buildAttemptJob, jobName, LABELS, MANAGED_SELECTOR, type AttemptJobSettings } from './attempt-job.ts';
import { podOutcome, type PodFailure } from './pod-outcome.ts';

export interface KubernetesLauncherOptions {
  /** A kubeconfig file; null: the pod's own service account (in-cluster). */
  readonly kubeconfig: string | null;
  readonly job: AttemptJobSettings;
  /** Where the launcher reports what the worker in a pod could not (OOMKilled, evicted, ...). */
  readonly bus: EventBus;
  readonly logger: { warn(o: object, m: string): void; info(o: object, m: string): void };
  /** After `terminate` asked the worker to stop, how long before its Job is deleted. */
  readonly cancelGraceMs: number;
  readonly imagePullGraceMs: number;
  readonly unschedulableGraceMs: number;
  /** The longest `kill` waits for the pod to be gone. */
  readonly killTimeoutMs?: number;
}

/**
 * The sequence number of the failures the launcher reports: above any the worker sends, so
 * the control plane applies it while the attempt is current and ignores everything after.
 */
const LAUNCHER_SEQ = Number.MAX_SAFE_INTEGER;
/** How many concluded attempts are remembered (so a pod's later updates report nothing twice). */
const MAX_CONCLUDED = 50_000;
const RESTART_DELAY_MS = 1_000;

/**
 * Runs each attempt as a Kubernetes Job (one pod, never restarted: Sluice owns retries) and
 * watches the pods with an informer (list once, then a watch resumed from its
 * resourceVersion; no polling). What the worker in a pod can report, it reports on the bus;
 * what it cannot (OOMKilled, evicted, deleted, past its deadline, an image that cannot be
 * pulled, no node that fits) the launcher reports for it, so no attempt stays running after
 * its pod is gone.
 */
export class KubernetesLauncher implements Launcher {
  readonly kind = 'kubernetes';
  readonly canKill = true;
  readonly #o: KubernetesLauncherOptions;
  readonly #batch: BatchV1Api;
  readonly #core: CoreV1Api;
  readonly #informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  readonly #concluded = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Pods with a look-again scheduled (by uid). */
  readonly #rechecks = new Set<string>();
  readonly #goneWaiters = new Map<string, Set<() => void>>();
  /** API requests this launcher made (the informer's list and watches included), for the benchmark. */
  requests = 0;
  #closed = false;

  constructor(o: KubernetesLauncherOptions) {
    this.#o = o;
    const kc = new KubeConfig();
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromCluster();
    this.#batch = kc.makeApiClient(BatchV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
    const namespace = o.job.namespace;
    this.#informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, () => {
      this.requests++;
      return this.#core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR });
    }, MANAGED_SELECTOR);
    this.#informer.on('add', (p) => this.#observe(p, false));
    this.#informer.on('update', (p) => this.#observe(p, false));
    this.#informer.on('delete', (p) => this.#observe(p, true));
    this.#informer.on('connect', () => void this.requests++);
    // The informer stops on an error; it starts again (a fresh list) after a pause.
    this.#informer.on('error', (err) => {
      if (this.#closed) return;
      this.#o.logger.warn({ err: describeError(err) }, 'pod watch failed; watching again');
      this.#later(RESTART_DELAY_MS, () => void this.#informer.start().catch(() => undefined));
    });
  }

  /** Starts the pod informer; resolves once the first list is in. */
  async start(): Promise<void> {
    await this.#informer.start();
  }

  async launch(request: LaunchRequest): Promise<void> {
    const body = buildAttemptJob(request, this.#o.job);
    this.requests++;
    try {
      await this.#batch.createNamespacedJob({ namespace: this.#o.job.namespace, body });
    } catch (err) {
      // The same start delivered twice: the Job is there already.
      if (err instanceof ApiException && err.code === 409) return;
      throw new Error(`creating Job ${body.metadata?.name} in namespace ${this.#o.job.namespace} failed: ${apiMessage(err)}`, { cause: err });
    }
  }

  /**
   * Asks the attempt's worker to stop (a `cancel` on the control topic: its AbortSignal
   * fires and it reports cancelled), then deletes the Job after the grace period, in case
   * the pod does not end by itself.
   */
  async terminate(attemptId: string, reason: string): Promise<void> {
    await this.#o.bus.publish(TOPICS.control, attemptId, { v: 1, type: 'cancel', attemptId, reason });
    this.#later(this.#o.cancelGraceMs, () => {
      if (this.#podsOf(attemptId).some((p) => !isEnded(p))) void this.#deleteJob(attemptId, null).catch(() => undefined);
    });
  }

  /** Deletes the Job and its pods at once (no grace period), and waits until the pods are gone. */
  async kill(attemptId: string): Promise<void> {
    this.#concluded.add(attemptId);
    const gone = this.#whenGone(attemptId, this.#o.killTimeoutMs ?? 30_000);
    await this.#deleteJob(attemptId, 0);
    this.requests++;
    await this.#core.deleteCollectionNamespacedPod({
      namespace: this.#o.job.namespace, labelSelector: `${LABELS.attemptId}=${attemptId}`, gracePeriodSeconds: 0,
    }).catch(() => undefined);
    await gone;
  }

  async #deleteJob(attemptId: string, gracePeriodSeconds: number | null): Promise<void> {
    this.requests++;
    try {
      await this.#batch.deleteNamespacedJob({
        name: jobName(attemptId), namespace: this.#o.job.namespace, propagationPolicy: 'Foreground',
        ...(gracePeriodSeconds !== null ? { gracePeriodSeconds } : {}),
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return;
      throw err;
    }
  }

  #podsOf(attemptId: string): V1Pod[] {
    return this.#informer.list(this.#o.job.namespace).filter((p) => p.metadata?.labels?.[LABELS.attemptId] === attemptId);
  }

  #whenGone(attemptId: string, timeoutMs: number): Promise<void> {
    if (this.#podsOf(attemptId).length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#goneWaiters.get(attemptId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      let set = this.#goneWaiters.get(attemptId);
      if (!set) this.#goneWaiters.set(attemptId, (set = new Set()));
      set.add(done);
    });
  }

  #observe(pod: V1Pod, deleted: boolean): void {
    const annotations = pod.metadata?.annotations ?? {};
    const attemptId = annotations['sluice.dev/attempt-id'];
    if (!attemptId) return;
    if (deleted && this.#podsOf(attemptId).length === 0) for (const w of [...(this.#goneWaiters.get(attemptId) ?? [])]) w();
    if (this.#concluded.has(attemptId)) return;
    const outcome = podOutcome(pod, deleted, {
      now: Date.now(), imagePullGraceMs: this.#o.imagePullGraceMs, unschedulableGraceMs: this.#o.unschedulableGraceMs, nodePoolLabel: this.#o.job.nodePoolLabel,
    });
    if (outcome.state === 'reported') return this.#conclude(attemptId);
    if (outcome.state === 'waiting') {
      // Unschedulable and image-pull failures are decided after a grace period, when no
      // update may come: look again then, one pending look per pod however many updates come.
      const uid = pod.metadata?.uid ?? attemptId;
      if (this.#rechecks.has(uid)) return;
      this.#rechecks.add(uid);
      this.#later(Math.max(200, Math.min(this.#o.unschedulableGraceMs, this.#o.imagePullGraceMs, 5_000)), () => {
        this.#rechecks.delete(uid);
        const now = this.#podsOf(attemptId).find((p) => p.metadata?.uid === pod.metadata?.uid);
        if (now) this.#observe(now, false);
      });
      return;
    }
    if (outcome.state !== 'failed') return;
    this.#conclude(attemptId);
    void this.#report(pod, outcome.failure).catch((err) => this.#o.logger.warn({ err: describeError(err), attempt: attemptId }, 'could not report a pod failure'));
    // A pod that can never run would wait forever; one that ended is cleaned up by the TTL.
    if (!isEnded(pod) && !deleted) void this.#deleteJob(attemptId, null).catch(() => undefined);
  }

  #conclude(attemptId: string): void {
    this.#concluded.add(attemptId);
    if (this.#concluded.size > MAX_CONCLUDED) this.#concluded.delete(this.#concluded.values().next().value as string);
  }

  async #report(pod: V1Pod, failure: PodFailure): Promise<void> {
    const a = pod.metadata?.annotations ?? {};
    const runId = a['sluice.dev/run-id'];
    const step = a['sluice.dev/step'];
    const attemptId = a['sluice.dev/attempt-id'];
    if (!runId || !step || !attemptId) return;
    this.#o.logger.info({ run: runId, step, attempt: attemptId, code: failure.code }, failure.message);
    const event: AttemptEvent = {
      v: 1, type: 'attempt.failed', runId, attemptId, step, seq: LAUNCHER_SEQ, ts: new Date().toISOString(),
      error: { code: failure.code, message: failure.message, retryable: failure.retryable, name: 'KubernetesPodFailure', ...(failure.nonRetryableReason ? { nonRetryableReason: failure.nonRetryableReason } : {}) },
    };
    await this.#o.bus.publish(TOPICS.events, runId, event);
  }

  #later(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closed) fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#informer.stop();
  }
}

function isEnded(p: V1Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    try {
      return `${err.code}: ${(JSON.parse(body) as { message?: string }).message ?? body}`.slice(0, 1000);
    } catch {
      return `${err.code}: ${body}`.slice(0, 1000);
    }
  }
  return describeError(err);
}
