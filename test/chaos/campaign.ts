import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DAYS } from '../../src/presets/demo-data.ts';
import { Api, retrying, sleep, type RunDetail } from './api.ts';
import { brokerPid, killBroker, startBroker } from './broker.ts';
import { ControlPlaneProcess } from './control-plane.ts';
import { FAULT_COST, spareAttempts, waitForMoment, type Fired } from './moments.ts';
import { describeMoment, planInjection, type Bus, type InjectionPlan, type RunSpec, type Target } from './plan.ts';
import { streamOf } from './prng.ts';
import { RunBook, type RunOutcome } from './run-book.ts';
import type { Violation } from './run-checks.ts';
import { openStack } from './stack.ts';
import { checkRecordedOnce } from './store-checks.ts';
import { checkBaseline, checkWarehouse, readWarehouse, type WarehouseState } from './warehouse-checks.ts';

export interface CampaignOptions {
  readonly seed: number;
  readonly injections: number;
  readonly bus: Bus;
  /** The broker is the machine's shared one (scripts/kafka.sh): kill it only when allowed. */
  readonly brokerKills?: boolean;
  /** Every this many injections, let the runs finish and check the warehouse (default 25). */
  readonly checkpointEvery?: number;
  /** Runs in flight at once (default 3). */
  readonly maxActive?: number;
  /** Scales the pause after each repaired fault (default 1); a short campaign in CI runs them closer together. */
  readonly settleScale?: number;
  /** Keep the state directory even when nothing was found. */
  readonly keepState?: boolean;
  readonly log?: (line: string) => void;
}

export interface InjectionRecord {
  readonly index: number;
  readonly target: Target;
  readonly pid: number | null;
  readonly moment: string;
  readonly fired: Fired['how'];
  readonly runs: readonly string[];
  readonly atMs: number;
  /** From the first run's submission to the fault. */
  readonly waitedMs: number;
}

export interface CampaignResult {
  readonly seed: number;
  readonly bus: Bus;
  readonly requested: number;
  readonly injections: readonly InjectionRecord[];
  readonly skipped: readonly { readonly index: number; readonly target: Target; readonly reason: string }[];
  readonly runs: readonly RunOutcome[];
  readonly checkpoints: number;
  readonly violations: readonly Violation[];
  readonly durationMs: number;
  /** Kept when a violation was found (or asked for), for the post-mortem; null once removed. */
  readonly home: string | null;
  readonly logFile: string;
}

const days = () => readdirSync(fileURLToPath(new URL('../../data/online-retail/', import.meta.url)))
  .filter((f) => /^\d{4}-\d{2}-\d{2}\.csv$/.test(f)).map((f) => f.slice(0, 10)).sort();

const WAIT_QUIET_MS = 240_000;
const WAIT_ROOM_MS = 180_000;
const OUTAGE_MS = 300_000;

/**
 * Runs a fault campaign against a real control plane and returns what it saw. Never throws
 * for what the system under test does: every failure to end, to total up or to keep its
 * history straight is a violation in the result, and the campaign keeps going.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const checkpointEvery = o.checkpointEvery ?? 25;
  const maxActive = o.maxActive ?? 3;
  const sample = days();
  const home = mkdtempSync(join(tmpdir(), 'sluice-chaos-'));
  const logFile = `${home}.log`;
  const violations: Violation[] = [];
  const violate = (v: Violation) => {
    violations.push(v);
    log(`VIOLATION ${v.kind}${v.runId ? ` run ${v.runId}` : ''}: ${v.message}`);
  };
  const injections: InjectionRecord[] = [];
  const skipped: { index: number; target: Target; reason: string }[] = [];
  let checkpoints = 0;
  const retries = new Map<string, number>();
  const maxAttempts = (pipeline: string, step: string) => retries.get(`${pipeline}/${step}`) ?? 1;

  const stack = await openStack(o.bus, home);
  const cp = new ControlPlaneProcess({ home, mode: stack.mode, env: stack.env, logFile });
  const api = new Api('', stack.token);
  const restart = async () => {
    await cp.start();
    api.url = cp.url;
  };
  /**
   * Brings a control plane that died or failed to start back, retrying for a while: what
   * stops it (a store that went away, a broken checkout) is one violation, not one per plan.
   */
  const revive = async () => {
    if (cp.pid !== null) return;
    const down = Date.now();
    let first: string | null = null;
    while (cp.pid === null && Date.now() - down < OUTAGE_MS) {
      try {
        await restart();
      } catch (err) {
        first ??= (err as Error).message;
        await sleep(5_000);
      }
    }
    if (first !== null) violate({ kind: 'control-plane-start', runId: null, message: `no start for ${Math.round((Date.now() - down) / 1000)} s: ${first}` });
    if (cp.pid === null) throw new Error(`the control plane did not start again within ${OUTAGE_MS / 1000} s`);
  };
  let reviving: Promise<void> | null = null;
  const ensureUp = () => (reviving ??= revive().finally(() => (reviving = null)));
  // A crash of its own (not one of ours) is a finding; the campaign goes on once it is back.
  cp.onUnexpectedExit = (code, signal) => {
    const last = injections.at(-1);
    const after = last ? `, ${Math.round((Date.now() - started - last.atMs) / 1000)} s after injection #${last.index} (${last.target})` : '';
    violate({ kind: 'control-plane-died', runId: null, message: `the control plane exited by itself (${signal ?? `code ${code}`})${after}; log: ${logFile}` });
    ensureUp().catch(() => undefined);
  };

  const book = new RunBook(api, home, violate);
  const affordable = (target: Target, runs: RunDetail[]) =>
    runs.every((d) => book.specOf(d.run.id)?.expect === 'failed' || spareAttempts(d, maxAttempts) >= FAULT_COST[target]);

  let baseline: WarehouseState | null = null;
  const checkpoint = async (label: string, final: boolean) => {
    checkpoints += 1;
    const quiet = await book.waitActive((runs) => runs.length === 0, WAIT_QUIET_MS);
    if (quiet && baseline) for (const v of checkWarehouse(await readWarehouse(api), baseline, label)) violate(v);
    else if (!quiet) log(`${label}: runs still active after ${WAIT_QUIET_MS / 1000} s (${book.activeIds.join(', ')}); warehouse not checked`);
    await book.checkEnded(final);
  };

  /**
   * A stream runs until stopped (`sluice dev` runs market-live's): at the end each one still
   * active is stopped as a user would, and must then end (succeeded, or cancelled when it was
   * waiting to restart after the last injection) with a consistent history.
   */
  const stopStreams = async () => {
    const { items } = await retrying('GET /streams', 120_000, () => api.call<{ items: { runId: string | null; state: string }[] }>('GET', '/api/v1/streams'));
    const ids = [...new Set(items.filter((s) => s.runId !== null && s.state !== 'stopped' && s.state !== 'failed').map((s) => s.runId as string))];
    for (const id of ids) {
      book.track(id, undefined, 'stream');
      await api.call('POST', `/api/v1/runs/${id}/cancel`).catch((err: Error) => log(`stopping stream run ${id}: ${err.message}`));
      log(`stream run ${id} stopped`);
    }
  };

  const submit = async (spec: RunSpec, index: number): Promise<string> => {
    // Not retried: a POST whose answer was lost may have created the run all the same.
    const { id } = await api.call<{ id: string }>('POST', '/api/v1/runs', { pipeline: spec.pipeline, partition: spec.partition, params: spec.params, ...(spec.partition === undefined ? { allPartitions: true } : {}) });
    book.track(id, spec, spec.kind);
    log(`#${index}   run ${id} ${spec.kind}${spec.partition ? ` [${spec.partition}]` : ''} ${JSON.stringify(spec.params)}`);
    return id;
  };

  const pickWorker = async (plan: InjectionPlan, fired: Fired, runIds: readonly string[]): Promise<number | null> => {
    const rng = streamOf(o.seed ^ 0x5bd1e995, plan.index);
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const workers = (await api.workers().catch(() => [])).filter((w) => w.alive && w.pid !== null && cp.isOurWorker(w.pid));
      if (workers.length > 0) {
        const mine = new Set<string>();
        for (const id of runIds) for (const a of (await api.run(id).catch(() => null))?.attempts ?? []) if (a.status === 'running') mine.add(a.id);
        const w = workers.find((x) => fired.attemptId !== null && x.running.includes(fired.attemptId))
          ?? workers.find((x) => x.running.some((a) => mine.has(a)))
          ?? rng.pick(workers);
        return w.pid;
      }
      await sleep(100);
    }
    return null;
  };

  /** Kills the target; resolves once it is back (or, for a worker, once the kill is done). */
  const inject = async (plan: InjectionPlan, fired: Fired, runIds: readonly string[]): Promise<number | null> => {
    if (plan.target === 'worker') {
      const pid = await pickWorker(plan, fired, runIds);
      if (pid === null) return null;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return null; // it died on its own meanwhile (a dummy run's crash)
      }
      return pid;
    }
    if (plan.target === 'control-plane') {
      const pid = await cp.kill();
      await sleep(plan.pauseMs);
      // Its workers must notice and go by themselves (they only lose their attempts).
      const left = await cp.waitSurvivors(5_000);
      if (left.length > 0) {
        violate({ kind: 'worker-outlived-control-plane', runId: null, message: `pids ${left.join(', ')} still running 5 s after control plane ${pid} died` });
        for (const p of left) process.kill(p, 'SIGKILL');
      }
      await restart();
      return pid;
    }
    const pid = await killBroker();
    await sleep(plan.pauseMs);
    await startBroker();
    return pid;
  };

  const once = async (plan: InjectionPlan): Promise<boolean> => {
    const skip = (reason: string) => {
      skipped.push({ index: plan.index, target: plan.target, reason });
      log(`#${plan.index} skipped (${plan.target}): ${reason}`);
      return false;
    };
    await ensureUp();
    // A broker outage costs every run in flight two attempts: an older run that is about
    // to lose one to an earlier fault could not afford it, so it starts from a quiet system.
    const alone = plan.runs.some((r) => r.exclusive) || plan.target === 'broker';
    const room = await book.waitActive(
      (runs) => (alone ? runs.length === 0 : !book.exclusiveActive() && runs.length + plan.runs.length <= maxActive && affordable(plan.target, runs)),
      WAIT_ROOM_MS,
    );
    if (!room) return skip(`runs in flight did not leave room within ${WAIT_ROOM_MS / 1000} s`);
    const runIds: string[] = [];
    for (const spec of plan.runs) runIds.push(await submit(spec, plan.index));
    const submitted = Date.now();
    const fired = await waitForMoment(api, runIds[0], plan.moment);
    // A fault that would take the last attempt of a step that must succeed proves nothing.
    if (!affordable(plan.target, await book.refresh())) return skip('a run in flight has no attempt to spare for it');
    const at = Date.now() - started;
    const pid = await inject(plan, fired, runIds);
    if (pid === null) return skip('no live worker to kill');
    injections.push({ index: plan.index, target: plan.target, pid, moment: describeMoment(plan.moment), fired: fired.how, runs: runIds, atMs: at, waitedMs: at + started - submitted });
    log(`#${plan.index} ${plan.target} pid ${pid} killed ${describeMoment(plan.moment)} (${fired.how})`);
    await sleep(plan.settleMs * (o.settleScale ?? 1));
    return true;
  };

  try {
    await cp.start();
    api.url = cp.url;
    log(`control plane ${cp.pid} on ${cp.url}, state ${home}, log ${logFile}`);
    // Scheduled runs would not be the campaign's; the schedule state is stored, so once is enough.
    const { items } = await api.call<{ items: { pipeline: string; name: string }[] }>('GET', '/api/v1/schedules');
    for (const s of items) await api.call('PUT', `/api/v1/schedules/${s.pipeline}/${s.name}`, { enabled: false });
    for (const name of ['retail', 'dummy']) {
      const p = await api.call<{ dag: { nodes: { name: string; retry: { maxAttempts: number } }[] } }>('GET', `/api/v1/pipelines/${name}`);
      for (const n of p.dag.nodes) retries.set(`${name}/${n.name}`, n.retry.maxAttempts);
    }
    // The baseline: one unfaulted load of all 20 days. Dev loads its demo data as a backfill,
    // one run per sample day: that ends first, then the baseline reloads every day at once.
    // Every later retail run replaces days it holds, so its totals are what must stay.
    if (stack.mode === 'dev') {
      const days = (Date.parse(DEMO_DAYS.to) - Date.parse(DEMO_DAYS.from)) / 86_400_000 + 1;
      await retrying('the demo load', 180_000, async () => {
        const { items: runs } = await api.call<{ items: { status: string; backfillId: string | null }[] }>('GET', '/api/v1/runs?pipeline=retail&limit=200');
        const demo = runs.filter((r) => r.backfillId !== null);
        const ended = demo.filter((r) => r.status !== 'queued' && r.status !== 'running').length;
        if (demo.length < days || ended < demo.length) throw new Error(`demo backfill: ${ended} of ${days} runs ended`);
      });
    }
    const baselineId = (await api.call<{ id: string }>('POST', '/api/v1/runs', { pipeline: 'retail', allPartitions: true })).id;
    book.track(baselineId, undefined, 'baseline');
    if (!(await book.waitActive((runs) => runs.length === 0, WAIT_QUIET_MS))) throw new Error(`the baseline load ${baselineId} did not finish`);
    await book.check(baselineId);
    baseline = await readWarehouse(api);
    for (const v of checkBaseline(baseline)) violate(v);
    log(`baseline load ${baselineId}: ${JSON.stringify(baseline.counts)}`);

    for (let index = 0; injections.length < o.injections; index++) {
      let plan = planInjection(o.seed, index, o.bus, sample);
      if (plan.target === 'broker' && (!o.brokerKills || brokerPid() === null)) plan = { ...plan, target: 'control-plane' };
      let did = false;
      try {
        did = await once(plan);
      } catch (err) {
        violate({ kind: 'campaign-error', runId: null, message: `injection #${index} (${plan.target}): ${(err as Error).message}` });
        await ensureUp();
        if (o.bus === 'kafka' && brokerPid() === null) await startBroker().catch((e) => violate({ kind: 'broker-start', runId: null, message: (e as Error).message }));
      }
      if (did && injections.length % checkpointEvery === 0 && injections.length < o.injections) await checkpoint(`after ${injections.length} injections`, false);
      // A campaign whose plans keep being skipped must still end.
      if (skipped.length > o.injections) {
        violate({ kind: 'campaign-stalled', runId: null, message: `${skipped.length} plans skipped for ${injections.length} injections` });
        break;
      }
    }
    await stopStreams();
    await checkpoint('at the end', true);
  } catch (err) {
    violate({ kind: 'campaign-error', runId: null, message: (err as Error).message });
  } finally {
    await Promise.resolve(reviving).catch(() => undefined);
    await cp.stop();
    const left = await cp.waitSurvivors(10_000);
    if (left.length > 0) {
      violate({ kind: 'worker-outlived-control-plane', runId: null, message: `pids ${left.join(', ')} still running after the control plane stopped` });
      for (const p of left) process.kill(p, 'SIGKILL');
    }
    try {
      const store = await stack.openMetadata();
      try {
        for (const v of await checkRecordedOnce(store)) violate(v);
      } finally {
        await store.close();
      }
    } catch (err) {
      violate({ kind: 'campaign-error', runId: null, message: `reading the run state: ${(err as Error).message}` });
    }
    await stack.close().catch((err) => log(`could not clean up the stack: ${(err as Error).message}`));
  }
  const keep = o.keepState || violations.length > 0;
  if (!keep) {
    rmSync(home, { recursive: true, force: true });
    rmSync(logFile, { force: true });
  }
  return {
    seed: o.seed, bus: o.bus, requested: o.injections, injections, skipped, runs: book.outcomes, checkpoints, violations,
    durationMs: Date.now() - started, home: keep ? home : null, logFile,
  };
}
