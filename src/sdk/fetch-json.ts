import { SluiceError } from '../core/errors.ts';
import type { SourcePolicy } from './source-policy.ts';
import { policyGet } from './url-fetch.ts';

export interface JsonResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The parsed body; the text when it is not JSON. */
  readonly body: unknown;
}

/** Bodies of API answers are small; a larger one is an error, not a memory spike. */
const DEFAULT_MAX_BYTES = 8 << 20;

/**
 * GETs a JSON API under the run's source policy (`ctx.sources`): the same address, redirect
 * and timeout rules as file sources, the body read up to `maxBytes`. Any status comes back
 * (a 429 is for the caller to honour); only a refused or broken request throws.
 *
 * @example
 * const r = await fetchJson(ctx.sources, `${ctx.params.baseUrl}/fapi/v1/time`, { signal: ctx.signal });
 * if (r.status === 200) ctx.log.info(`server time ${(r.body as { serverTime: number }).serverTime}`);
 */
export async function fetchJson(policy: SourcePolicy, url: string, options: { signal?: AbortSignal; maxBytes?: number; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
  const max = Math.min(options.maxBytes ?? DEFAULT_MAX_BYTES, policy.maxBytes);
  const { res } = await policyGet(policy, url, { signal: options.signal, headers: { accept: 'application/json', ...options.headers } });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > max) {
      res.destroy();
      throw new SluiceError('source_too_large', `${url}: the answer is larger than ${max} bytes`, { retryable: false });
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page): the text, for the caller's message.
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode ?? 0, headers, body };
}
