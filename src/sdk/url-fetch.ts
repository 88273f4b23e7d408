import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { SluiceError } from '../core/errors.ts';
import type { SourcePolicy } from './source-policy.ts';
import { allowedAddress, systemResolver, type ResolvedAddress, type Resolver } from './url-policy.ts';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface GetOptions {
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  readonly resolver?: Resolver;
}

/**
 * GETs a URL the policy allows, following redirects (each hop checked again), with the
 * policy's connect and idle timeouts. Resolves with the final response, its body unread;
 * an idle timeout while the body is read destroys the body with a `source_timeout` error.
 */
export async function policyGet(policy: SourcePolicy, href: string, options: GetOptions = {}): Promise<{ url: URL; res: IncomingMessage }> {
  let url = new URL(href);
  for (let hop = 0; ; hop++) {
    const target = await allowedAddress(policy, url, options.resolver ?? systemResolver);
    const res = await requestOnce(policy, url, target, options);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return { url, res };
    res.resume();
    if (hop >= MAX_REDIRECTS) throw new SluiceError('source_unavailable', `source ${href}: more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
  }
}

function requestOnce(policy: SourcePolicy, url: URL, target: ResolvedAddress, options: GetOptions): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let res: IncomingMessage | undefined;
    const fail = (err: Error) => (res ? res.destroy(err) : req.destroy(err));
    const req = client.request({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { ...options.headers, 'accept-encoding': 'identity' },
      // The address was checked; connecting anywhere else would undo the check.
      lookup: pinned(target),
      agent: false,
      signal: options.signal,
    });
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const t = setTimeout(
        () => fail(timeout(`cannot connect to source ${url.href} within ${policy.connectTimeoutMs} ms (sources.connectTimeoutMs)`)),
        policy.connectTimeoutMs,
      );
      const clear = () => clearTimeout(t);
      socket.once('connect', clear).once('close', clear);
    });
    req.setTimeout(policy.idleTimeoutMs, () =>
      fail(timeout(`source ${url.href} sent nothing for ${policy.idleTimeoutMs} ms (sources.idleTimeoutMs)`)),
    );
    req.on('response', (r) => {
      res = r;
      resolve(r);
    });
    req.on('error', (err) => {
      if (err instanceof SluiceError || (err as Error).name === 'AbortError') return reject(err);
      reject(new SluiceError('source_unavailable', `cannot fetch source ${url.href}: ${err.message}`, { cause: err, retryable: true }));
    });
    req.end();
  });
}

function timeout(message: string): SluiceError {
  return new SluiceError('source_timeout', message, { retryable: true });
}

function pinned(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}
