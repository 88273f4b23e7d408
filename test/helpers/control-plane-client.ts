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
    return this.call('POST', '/api/v1/runs', { pipeline, params, partition });
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
}

export interface RunView {
  run: { id: string; status: string; error: string | null; finishedAt: string | null };
  steps: { step: string; status: string; attempts: number }[];
  attempts: { id: string; step: string; attempt: number; status: string; error: string | null; startedAt: string; finishedAt: string | null }[];
}

export const RETAIL_TOTALS_SQL = `
  SELECT (SELECT count() FROM raw.online_retail) AS raw, (SELECT count() FROM staging.online_retail) AS staged,
         (SELECT count() FROM marts.fact_sales) AS fact_sales, (SELECT count() FROM marts.fact_sale_returns) AS fact_sale_returns,
         (SELECT countIf(customer_id IS NULL) FROM staging.online_retail) AS without_customer,
         (SELECT count() FROM marts.dim_product FINAL) AS products, (SELECT count() FROM marts.dim_customer FINAL) AS customers,
         (SELECT count() FROM vault.sat_invoice_line FINAL) AS sat_lines, (SELECT count() FROM quality.data_quality) AS dq_days`;

export const RETAIL_TOTALS = {
  raw: 42_481, staged: 42_481, fact_sales: 26_160, fact_sale_returns: 690, without_customer: 15_631,
  products: 2_822, customers: 948, sat_lines: 42_481, dq_days: 20,
};
