import type { Labels, MetricsPusher } from '../../ports/metrics.ts';

export interface PushgatewayPusherOptions {
  /** Base URL of the Pushgateway, e.g. `http://pushgateway:9091`. */
  readonly url: string;
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
}

/** A MetricsPusher that can also remove its group once a batch job's metrics are stale. */
export interface PushgatewayPusher extends MetricsPusher {
  /** Deletes the group `job` (+ grouping labels); a missing group is not an error. */
  delete(job: string, grouping?: Labels): Promise<void>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Pushes with plain fetch instead of prom-client's Pushgateway class: that class reads a
 * prom-client Registry, while the port hands us any Metrics, and its errors do not say
 * which gateway failed.
 */
export function createPushgatewayPusher(options: PushgatewayPusherOptions): PushgatewayPusher {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function send(method: 'PUT' | 'DELETE', job: string, grouping: Labels, body?: string, contentType?: string) {
    const url = `${base}${groupPath(job, grouping)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        body,
        headers: contentType ? { 'content-type': contentType } : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : describe(err);
      throw new Error(`pushgateway ${method} ${url} failed: ${reason}`, { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw new Error(`pushgateway ${method} ${url} failed: HTTP ${response.status} ${response.statusText}: ${text.trim().slice(0, 500)}`);
    }
  }

  return {
    async push(metrics, job, grouping = {}) {
      // PUT replaces every metric of the group, so series a job stopped reporting vanish.
      await send('PUT', job, grouping, await metrics.render({ process: false }), metrics.contentType);
    },
    async delete(job, grouping = {}) {
      await send('DELETE', job, grouping);
    },
  };
}

/**
 * `/metrics/job/<job>/<label>/<value>...`. Values that are empty or contain `/` cannot
 * be plain path segments (the gateway splits on `/` before decoding), so they use the
 * gateway's `@base64` form.
 */
function groupPath(job: string, grouping: Labels): string {
  if (!job) throw new Error('pushgateway job name must not be empty');
  const segments = [segment('job', job)];
  for (const [name, value] of Object.entries(grouping)) {
    if (!LABEL_NAME.test(name) || name === 'job') {
      throw new Error(`invalid pushgateway grouping label name "${name}" (job ${job})`);
    }
    segments.push(segment(name, value));
  }
  return `/metrics/${segments.join('/')}`;
}

function segment(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value).toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
