import type { LookupFunction } from 'node:net';
import type { SourcePolicy } from './source-policy.ts';
import { allowedAddress, type Resolver, systemResolver } from './url-policy.ts';

/**
 * Checks a WebSocket URL (`ws:`/`wss:`) against the run's source policy as a fetch of the
 * same host would be, and returns a `lookup` that pins the connection to the address that
 * was checked (pass it to the socket's options), so a name cannot resolve elsewhere between
 * the check and the connect.
 *
 * @example
 * const lookup = await socketLookup(ctx.sources, 'wss://fstream.binance.com/stream?streams=btcusdt@aggTrade');
 * const ws = new WebSocket(url, { lookup });
 */
export async function socketLookup(policy: SourcePolicy, url: string, resolver: Resolver = systemResolver): Promise<LookupFunction> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`${url}: a WebSocket URL starts with ws:// or wss://`);
  const asHttp = new URL(url.replace(/^ws/i, 'http'));
  const { address, family } = await allowedAddress(policy, asHttp, resolver);
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}
