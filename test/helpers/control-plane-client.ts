import assert from 'node:assert/strict';
import { assertRetailTotals, numbers, RETAIL_COUNTS_SQL } from './retail-totals.ts';

/** Small typed helpers over a running control plane's API, for fault tests. */
export class ControlPlaneClient {
  readonly url: string;
  readonly token: string | undefined;
  constructor(url: string, token?: string) {
    this.url = url;
    this.token = token;
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  startRun(pipeline: string, params: Record<string, unknown> = {}, partition?: string): Promise<{ id: string }> {
    return this.call('POST', '/api/v1/runs', { pipeline, params, ...(partition === undefined ? { allPartitions: true } : { partition }) });
  }

  run(id: string): Promise<RunView> {
    return this.call('GET', `/api/v1/runs/${id}`);
  }

  async waitRun(id: string, timeoutMs = 180_000): Promise<RunView> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.run(id);
      if (r.run.finishedAt) return r;
      if (Date.now() > end) throw new Error(`run ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** Polls until `pick` finds a running attempt and a live worker process runs it; returns both. */
  async runningAttempt(runId: string, pick: (a: { step: string; status: string }) => boolean, timeoutMs = 60_000): Promise<{ attemptId: string; step: string; pid: number }> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const r = await this.run(runId);
      if (r.run.finishedAt) throw new Error(`run ${runId} finished before an attempt could be caught`);
      const a = r.attempts.find((x) => x.status === 'running' && pick(x));
      if (a) {
        const { items } = await this.call<{ items: { pid: number | null; running: string[] }[] }>('GET', '/api/v1/workers');
        const w = items.find((x) => x.running.includes(a.id));
        if (w?.pid) return { attemptId: a.id, step: a.step, pid: w.pid };
      }
      await new Promise((res) => setTimeout(res, 15));
    }
    throw new Error('no running attempt found');
  }

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return (await this.call<{ rows: T[] }>('POST', '/api/v1/query', { sql })).rows;
  }

  /** The retail tables hold exactly the reference totals. */
  async assertRetailTotals(): Promise<void> {
    const [row] = await this.query(RETAIL_COUNTS_SQL);
    assertRetailTotals(numbers(row));
  }

  /**
   * Starts a full retail run, `kill -9`s the worker running one of its steps, and checks
   * the attempt was lost and retried, the run succeeded, and nothing was lost or doubled.
   */
  async killWorkerMidRetail(): Promise<void> {
    const { id } = await this.startRun('retail');
    const victim = await this.runningAttempt(id, (a) => a.step !== 'schema');
    process.kill(victim.pid, 'SIGKILL');
    const d = await this.waitRun(id);
    assert.equal(d.run.status, 'succeeded', JSON.stringify(d.run));
    assert.deepEqual(d.attempts.filter((a) => a.step === victim.step).map((a) => a.status), ['lost', 'succeeded']);
    await this.assertRetailTotals();
  }
}

export interface RunView {
  run: { id: string; status: string; error: string | null; finishedAt: string | null };
  steps: { step: string; status: string; attempts: number }[];
  attempts: { id: string; step: string; attempt: number; status: string; error: string | null; startedAt: string; finishedAt: string | null }[];
}
