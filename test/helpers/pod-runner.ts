import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, makeInformer, type V1Container, type V1ContainerStatus, type V1EnvVar, type V1Pod } from '@kubernetes/client-node';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The nodes `scripts/kubernetes.sh up` creates for us; kwok's stages leave their pods alone. */
export const RUNNER_NODES: ReadonlySet<string> = new Set(['sluice-runner', 'sluice-runner-lost']);
const MAX_OUTPUT = 64 * 1024;

interface Running {
  readonly child: ChildProcess;
  readonly startedAt: string;
  killTimer: NodeJS.Timeout | null;
  output: string;
}

/**
 * A test fixture standing in for kubelet and container runtime on its nodes, nothing more:
 * it runs the container command of each pod bound to a RUNNER_NODES node as a local process (the
 * image's `sluice` entry point is this checkout's bin/sluice.mjs), with the pod's env
 * (literal values and Secret / ConfigMap keys) and its Secret and ConfigMap volumes, and writes the pod's status back through the
 * API server: Running, then Succeeded or Failed with the exit code. A pod being deleted gets
 * SIGTERM, SIGKILL after its grace period, then is removed; a pod deleted at once is killed.
 * Everything else (API server, scheduler, Job controller, admission) is the real one.
 */
export class PodRunner {
  readonly #kc = new KubeConfig();
  readonly #core: CoreV1Api;
  readonly #informer;
  #closed = false;
  readonly #running = new Map<string, Running>();
  readonly #env: Record<string, string>;
  /** How many pods it started: the tests count them against the attempts they launched. */
  started = 0;

  constructor(kubeconfig: string, env: Record<string, string> = {}) {
    this.#kc.loadFromFile(kubeconfig);
    this.#core = this.#kc.makeApiClient(CoreV1Api);
    this.#env = env;
    this.#informer = makeInformer(this.#kc, '/api/v1/pods', () => this.#core.listPodForAllNamespaces());
    this.#informer.on('add', (p) => void this.#onPod(p, false).catch(() => undefined));
    this.#informer.on('update', (p) => void this.#onPod(p, false).catch(() => undefined));
    this.#informer.on('delete', (p) => void this.#onPod(p, true).catch(() => undefined));
    // Watches end and error; start again, but not once closed (a watch started then would hold the process open).
    this.#informer.on('error', () => setTimeout(() => void (this.#closed ? undefined : this.#informer.start().catch(() => undefined)), 500).unref());
  }

  async start(): Promise<void> {
    await this.#informer.start();
  }

  async #onPod(pod: V1Pod, deleted: boolean): Promise<void> {
    if (!RUNNER_NODES.has(pod.spec?.nodeName ?? '')) return;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const running = this.#running.get(key);
    if (deleted) {
      running?.child.kill('SIGKILL');
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (!running) return void (await this.#remove(pod));
      if (running.killTimer === null) {
        running.child.kill('SIGTERM');
        const grace = (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
        running.killTimer = setTimeout(() => running.child.kill('SIGKILL'), grace);
        running.killTimer.unref();
      }
      return;
    }
    if (running || pod.status?.phase !== 'Pending') return;
    await this.#run(pod, key);
  }

  async #run(pod: V1Pod, key: string): Promise<void> {
    const container = pod.spec?.containers?.[0];
    if (!container) return;
    const namespace = pod.metadata?.namespace ?? 'default';
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOSTNAME: pod.metadata?.name ?? '', ...this.#env };
    const mounts = await this.#mount(pod, container, key);
    for (const e of container.env ?? []) env[e.name] = mounts.rewrite(await this.#value(namespace, e));
    // No command: the image's ENTRYPOINT, which for Sluice's image is `sluice`.
    const argv = container.command?.length ? [...container.command, ...(container.args ?? [])] : ['sluice', ...(container.args ?? [])];
    const [cmd, ...args] = argv[0] === 'sluice' ? [process.execPath, `${root}bin/sluice.mjs`, ...argv.slice(1)] : argv;
    if (!cmd) return;
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.started++;
    const startedAt = new Date().toISOString();
    const run: Running = { child, startedAt, killTimer: null, output: '' };
    this.#running.set(key, run);
    const keep = (b: Buffer) => void (run.output = (run.output + b.toString()).slice(-MAX_OUTPUT));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => void (run.output += `\n${err.message}`));
    await this.#setStatus(pod, 'Running', { name: container.name, image: container.image ?? '', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date(startedAt) } } });
    child.on('exit', (code, signal) => {
      if (run.killTimer) clearTimeout(run.killTimer);
      mounts.remove();
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      const status: V1ContainerStatus = {
        name: container.name, image: container.image ?? '', imageID: '', ready: false, restartCount: 0, started: false,
        state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: new Date(startedAt), finishedAt: new Date(), message: exitCode === 0 ? undefined : run.output.slice(-2000) } },
      };
      void this.#finish(pod, key, exitCode === 0 ? 'Succeeded' : 'Failed', status);
    });
  }

  async #finish(pod: V1Pod, key: string, phase: 'Succeeded' | 'Failed', status: V1ContainerStatus): Promise<void> {
    await this.#setStatus(pod, phase, status).catch(() => undefined);
    this.#running.delete(key);
    // A kubelet removes a pod being deleted once its containers are gone.
    const now = await this.#core.readNamespacedPod({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '' }).catch(() => null);
    if (now?.metadata?.deletionTimestamp) await this.#remove(now);
  }

  async #remove(pod: V1Pod): Promise<void> {
    await this.#core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', gracePeriodSeconds: 0 }).catch(() => undefined);
  }

  /**
   * Writes the pod's Secret and ConfigMap volumes into a directory of its own, each key a
   * file at its mount path under it, as a kubelet would project them. The process cannot
   * have the real paths, so env values naming a file under a mount path are pointed there.
   */
  async #mount(pod: V1Pod, container: V1Container, key: string): Promise<{ rewrite(v: string): string; remove(): void }> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const dir = mkdtempSync(join(tmpdir(), `pod-${key.replace(/\//g, '-')}-`));
    const mapped: [string, string][] = [];
    for (const m of container.volumeMounts ?? []) {
      const volume = pod.spec?.volumes?.find((v) => v.name === m.name);
      let data: Record<string, string> | undefined;
      if (volume?.secret?.secretName) {
        const secret = await this.#core.readNamespacedSecret({ name: volume.secret.secretName, namespace });
        data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
      } else if (volume?.configMap?.name) {
        data = (await this.#core.readNamespacedConfigMap({ name: volume.configMap.name, namespace })).data ?? {};
      }
      if (!data) continue;
      const at = join(dir, m.mountPath);
      mkdirSync(at, { recursive: true });
      for (const [k, v] of Object.entries(data)) writeFileSync(join(at, k), v);
      mapped.push([m.mountPath.replace(/\/$/, ''), at]);
    }
    mapped.sort((a, b) => b[0].length - a[0].length);
    return {
      rewrite: (v) => {
        const hit = mapped.find(([path]) => v === path || v.startsWith(`${path}/`));
        return hit ? hit[1] + v.slice(hit[0].length) : v;
      },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  async #value(namespace: string, e: V1EnvVar): Promise<string> {
    if (e.value !== undefined) return e.value;
    const s = e.valueFrom?.secretKeyRef;
    if (s) {
      const secret = await this.#core.readNamespacedSecret({ name: s.name ?? '', namespace });
      return Buffer.from(secret.data?.[s.key] ?? '', 'base64').toString();
    }
    const c = e.valueFrom?.configMapKeyRef;
    if (c) return (await this.#core.readNamespacedConfigMap({ name: c.name ?? '', namespace })).data?.[c.key] ?? '';
    return '';
  }

  /** Writes the pod's phase and container status, reading it again when someone else wrote first. */
  async #setStatus(pod: V1Pod, phase: string, container: V1ContainerStatus): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    for (let i = 0; i < 5; i++) {
      const now = await this.#core.readNamespacedPod({ name, namespace }).catch(() => null);
      if (!now) return;
      const ready = phase === 'Running' ? 'True' : 'False';
      now.status = {
        ...now.status,
        phase,
        startTime: now.status?.startTime ?? new Date(),
        hostIP: '127.0.0.1',
        podIP: '127.0.0.1',
        containerStatuses: [container],
        conditions: [
          ...(now.status?.conditions ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady' && c.type !== 'Initialized'),
          { type: 'Initialized', status: 'True', lastTransitionTime: new Date() },
          { type: 'Ready', status: ready, lastTransitionTime: new Date() },
          { type: 'ContainersReady', status: ready, lastTransitionTime: new Date() },
        ],
      };
      try {
        await this.#core.replaceNamespacedPodStatus({ name, namespace, body: now });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Stops watching and kills every process it started. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#informer.stop();
    const exits = [...this.#running.values()].map((r) => new Promise((resolve) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve(undefined);
      r.child.once('exit', resolve);
      r.child.kill('SIGKILL');
    }));
    await Promise.all(exits);
    this.#running.clear();
  }
}
