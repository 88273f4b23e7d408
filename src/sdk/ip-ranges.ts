import { isIPv4, isIPv6 } from 'node:net';

/**
 * What an address reaches: `public` (the internet), `loopback` (this machine), `private`
 * (a local or carrier network), `link-local` (incl. cloud metadata at 169.254.169.254) or
 * `reserved` (unspecified, multicast, documentation, anything unparsable).
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

type Range = readonly [network: string, prefix: number, cls: AddressClass | 'embedded-v4'];

const V4_RANGES: readonly Range[] = [
  // "This network": a connection to 0.0.0.0 reaches the local host on Linux.
  ['0.0.0.0', 8, 'reserved'],
  ['10.0.0.0', 8, 'private'],
  // Carrier-grade NAT; Alibaba's metadata service sits at 100.100.100.200.
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'reserved'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6_RANGES: readonly Range[] = [
  ['::', 128, 'reserved'],
  ['::1', 128, 'loopback'],
  // IPv4-mapped and NAT64 addresses reach the IPv4 address in their last 32 bits.
  ['::ffff:0:0', 96, 'embedded-v4'],
  ['64:ff9b::', 96, 'embedded-v4'],
  ['64:ff9b:1::', 48, 'private'],
  // IPv4-compatible (deprecated): the kernel may still route ::127.0.0.1 to loopback.
  ['::', 96, 'reserved'],
  ['100::', 64, 'reserved'],
  ['2001::', 32, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['2002::', 16, 'embedded-v4'],
  // Unique local addresses; AWS's IPv6 metadata service is fd00:ec2::254.
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'reserved'],
];

// Longest prefix first, so ::1/128 wins over ::/96.
const V6_BY_PREFIX = [...V6_RANGES].sort((a, b) => b[1] - a[1]);

/**
 * Classifies an IP address (v4 or v6, as `dns.lookup` or `URL.hostname` give it, brackets
 * allowed). IPv4 inside IPv6 (`::ffff:127.0.0.1`, NAT64, 6to4) is judged by its IPv4 part.
 *
 * @example
 * classifyAddress('169.254.169.254'); // 'link-local'
 * classifyAddress('[::ffff:7f00:1]'); // 'loopback'
 */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(ip)) return classifyV4(v4Bits(ip));
  if (!isIPv6(ip)) return 'reserved';
  const bits = v6Bits(ip);
  const hit = V6_BY_PREFIX.find(([net, prefix]) => bits >> BigInt(128 - prefix) === v6Bits(net) >> BigInt(128 - prefix));
  if (!hit) return 'public';
  if (hit[2] !== 'embedded-v4') return hit[2];
  const shift = hit[0] === '2002::' ? 80n : 0n;
  return classifyV4(Number((bits >> shift) & 0xffff_ffffn));
}

function classifyV4(bits: number): AddressClass {
  for (const [net, prefix, cls] of V4_RANGES) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    if (((bits & mask) >>> 0) === ((v4Bits(net) & mask) >>> 0)) return cls as AddressClass;
  }
  return 'public';
}

function v4Bits(ip: string): number {
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function v6Bits(ip: string): bigint {
  let text = ip;
  // A trailing dotted quad stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4Bits(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}
