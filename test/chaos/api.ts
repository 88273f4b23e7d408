import { readSse } from '../helpers/api.ts';

export interface RunDetail {
  run: { id: string; pipeline: string; partition: string | null; params: Record<string, unknown>; status: string; error: string | null; createdAt: string; finishedAt: string | null };
  steps: { step: string; status: string; attempts: number; reason: string | null }[];
  attempts: { id: string; step: string; attempt: number; status: string; error: string | null; startedAt: string; finishedAt: string | null }[];
}

export interface EventRecord {
  id: number;
  runId: string;
  type: string;
  step: string | null;
  attemptId: string | null;
  payload: Record<string, unknown>;
}

export interface WorkerInfo {
  id: string;
  pid: number | null;
  alive: boolean;
  running: string[];
}

const CALL_TIMEOUT_MS = 30_000;

/** The control plane's API with a timeout on every call: a wedged server must not stall the campaign. */
export class Api {
  url: string;
  token: string | undefined;
  constructor(url: string, token?: string) {
    this.url = url;
    this.token = token;
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (json) h['content-type'] = 'application/json';
    return h;
  }

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method, headers: this.#headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  run(id: string): Promise<RunDetail> {
    return this.call('GET', `/api/v1/runs/${id}`);
  }

  async workers(): Promise<WorkerInfo[]> {
    return (await this.call<{ items: WorkerInfo[] }>('GET', '/api/v1/workers')).items;
  }

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return (await this.call<{ rows: T[] }>('POST', '/api/v1/query', { sql })).rows;
  }

  /** Every run in the store, newest first. */
  async allRuns(): Promise<RunDetail['run'][]> {
    const out: RunDetail['run'][] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: { items: RunDetail['run'][]; nextCursor: string | null } = await this.call('GET', `/api/v1/runs?limit=200${q}`);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /**
   * Reads the run's SSE stream until `until` says stop, the server says the run has ended,
   * the connection drops or the time is up; returns the events seen and how it stopped.
   */
  async readEvents(runId: string, until: (e: EventRecord) => boolean, timeoutMs: number): Promise<{ events: EventRecord[]; ended: 'matched' | 'end' | 'closed' | 'timeout' }> {
    const events: EventRecord[] = [];
    let ended: 'matched' | 'end' | 'closed' | 'timeout' = 'closed';
    try {
      const res = await fetch(`${this.url}/api/v1/runs/${runId}/events`, { headers: this.#headers(false), signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`GET events of ${runId}: ${res.status} ${(await res.text()).slice(0, 300)}`);
      await readSse(res, (m) => {
        if (m.event === 'end') {
          ended = 'end';
          return true;
        }
        if (!m.data) return false;
        const e = JSON.parse(m.data) as EventRecord;
        events.push(e);
        if (until(e)) {
          ended = 'matched';
          return true;
        }
        return false;
      });
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err;
      ended = 'timeout';
    }
    return { events, ended };
  }
}

/** Retries `fn` on any error until it succeeds or `timeoutMs` passes (the server may be restarting). */
export async function retrying<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
      await sleep(200);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
