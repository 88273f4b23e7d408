import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SluiceError } from '../core/errors.ts';
import { classifyAddress } from './ip-ranges.ts';
import { forbidden, type SourcePolicy } from './source-policy.ts';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name resolution, replaceable so tests can play a DNS server that lies. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Checks a URL against the policy and returns the one address the request must connect
 * to. The address is checked after resolution and then pinned, so a name that resolves to
 * a public address now and to 169.254.169.254 a moment later (DNS rebinding) cannot get
 * through. Every address a name has must be allowed, not just the first.
 */
export async function allowedAddress(policy: SourcePolicy, url: URL, resolver: Resolver = systemResolver): Promise<ResolvedAddress> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw forbidden(`source ${url.href}: only http and https URLs can be fetched`);
  if (policy.trust === 'restricted') {
    if (!policy.urlPrefixes.some((p) => underPrefix(url, p))) {
      const prefixes = policy.urlPrefixes.length > 0 ? policy.urlPrefixes.join(', ') : 'none configured';
      throw forbidden(
        `source ${url.href} is not under an allowed URL prefix: this server fetches only URLs under ` +
          `sources.urlPrefixes (${prefixes}); add one with SLUICE_SOURCE_URL_PREFIXES`,
      );
    }
    // A server may decode %2F after our prefix check and walk out of the prefix.
    if (/%(2e|2f|5c)/i.test(url.pathname)) throw forbidden(`source ${url.href}: encoded dots or slashes in the path are refused`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolver(host);
    } catch (err) {
      throw new SluiceError('source_unavailable', `cannot resolve the host of source ${url.href}: ${(err as Error).message}`, { cause: err, retryable: true });
    }
    if (addresses.length === 0) throw new SluiceError('source_unavailable', `the host of source ${url.href} has no address`, { retryable: true });
  }
  for (const a of addresses) {
    const cls = classifyAddress(a.address);
    const allowed = cls === 'public' || policy.allowPrivateNetworks || (cls === 'loopback' && policy.trust === 'trusted');
    if (!allowed) {
      throw forbidden(
        `source ${url.href} resolves to ${a.address}, a ${cls} address: sources on private, loopback, link-local ` +
          `and metadata addresses are refused unless sources.allowPrivateNetworks is set (SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS=true)`,
      );
    }
  }
  return addresses[0];
}

/** Same origin, and the path continues the prefix's path at a `/` boundary. */
export function underPrefix(url: URL, prefix: string): boolean {
  let p: URL;
  try {
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (url.origin !== p.origin || url.username !== '' || url.password !== '') return false;
  const base = p.pathname;
  const pathOk = base.endsWith('/') ? url.pathname.startsWith(base) : url.pathname === base || url.pathname.startsWith(`${base}/`);
  return pathOk && (p.search === '' || url.search.startsWith(p.search));
}
