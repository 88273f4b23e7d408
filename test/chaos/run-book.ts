import { retrying, sleep, type Api, type RunDetail } from './api.ts';
import type { RunKind, RunSpec } from './plan.ts';
import { checkDummyObject, checkRunEvents, checkRunRecord, type Violation } from './run-checks.ts';

export interface RunOutcome {
  readonly id: string;
  readonly kind: RunKind | 'baseline' | 'other' | 'stream';
  readonly status: string;
  readonly expect: 'succeeded' | 'failed' | null;
  readonly attempts: number;
  readonly lost: number;
}

interface Tracked {
  readonly id: string;
  readonly spec: RunSpec | undefined;
  readonly kind: RunOutcome['kind'];
  checked: boolean;
}

/** Across a control-plane restart the API is gone for seconds; reads wait this long for it. */
const RESTART_WAIT_MS = 120_000;

/** The runs of a campaign: which are still in flight, and the checks of those that ended. */
export class RunBook {
  readonly #api: Api;
  readonly #home: string;
  readonly #violate: (v: Violation) => void;
  readonly #tracked = new Map<string, Tracked>();
  readonly #active = new Set<string>();
  readonly outcomes: RunOutcome[] = [];

  constructor(api: Api, home: string, violate: (v: Violation) => void) {
    this.#api = api;
    this.#home = home;
    this.#violate = violate;
  }

  track(id: string, spec: RunSpec | undefined, kind: RunOutcome['kind']): void {
    this.#tracked.set(id, { id, spec, kind, checked: false });
    this.#active.add(id);
  }

  specOf(id: string): RunSpec | undefined {
    return this.#tracked.get(id)?.spec;
  }

  get activeIds(): string[] {
    return [...this.#active];
  }

  /** A run that crashes its own worker is in flight: it must stay alone. */
  exclusiveActive(): boolean {
    return [...this.#active].some((id) => this.#tracked.get(id)?.spec?.exclusive);
  }

  /** The details of the runs in flight; those that have finished leave the set. */
  async refresh(): Promise<RunDetail[]> {
    const out: RunDetail[] = [];
    for (const id of [...this.#active]) {
      const d = await retrying(`GET run ${id}`, RESTART_WAIT_MS, () => this.#api.run(id));
      if (d.run.finishedAt) this.#active.delete(id);
      else out.push(d);
    }
    return out;
  }

  async waitActive(ok: (runs: RunDetail[]) => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (ok(await this.refresh())) return true;
      if (Date.now() > end) return false;
      await sleep(100);
    }
  }

  /**
   * Checks every run that has ended and was not checked yet; `all` also takes the runs the
   * campaign did not submit (another demo load after a restart) and those still in flight.
   */
  async checkEnded(all: boolean): Promise<void> {
    if (all) {
      for (const r of await this.#api.allRuns()) if (!this.#tracked.has(r.id)) this.#tracked.set(r.id, { id: r.id, spec: undefined, kind: 'other', checked: false });
    }
    for (const t of this.#tracked.values()) if (!t.checked && (all || !this.#active.has(t.id))) await this.check(t.id);
  }

  async check(id: string): Promise<void> {
    const t = this.#tracked.get(id)!;
    const d = await retrying(`GET run ${id}`, RESTART_WAIT_MS, () => this.#api.run(id));
    // A stream stopped while it waited to restart after an injection ends cancelled, one stopped while running succeeded: either is an end.
    const expect = t.kind === 'other' || t.kind === 'stream' ? null : (t.spec?.expect ?? 'succeeded');
    const found = checkRunRecord(d, t.spec, expect);
    if (d.run.finishedAt) {
      const { events, ended } = await this.#api.readEvents(id, () => false, 60_000);
      if (ended !== 'end') found.push({ kind: 'event-stream', runId: id, message: `the run's event stream did not end (${ended}) after ${events.length} events` });
      found.push(...checkRunEvents(d, events), ...checkDummyObject(d, this.#home));
      t.checked = true;
    }
    for (const v of found) this.#violate(v);
    this.outcomes.push({
      id, kind: t.kind, status: d.run.status, expect,
      attempts: d.attempts.length, lost: d.attempts.filter((a) => a.status === 'lost').length,
    });
  }
}
