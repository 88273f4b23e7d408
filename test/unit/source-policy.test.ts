import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import { classifyAddress } from '../../src/sdk/ip-ranges.ts';
import type { SourcePolicy } from '../../src/sdk/source-policy.ts';
import { resolveSources } from '../../src/sdk/sources.ts';
import { allowedAddress, underPrefix, type Resolver } from '../../src/sdk/url-policy.ts';
import { tempHome } from '../helpers/runtime.ts';

const dir = tempHome('sluice-sources-');
const root = join(dir.home, 'root');
const outside = join(dir.home, 'outside');
const objects = createLocalObjectStore({ root: join(dir.home, 'objects') });
const limits = { connectTimeoutMs: 2_000, idleTimeoutMs: 2_000, maxBytes: 1 << 20 };
const restricted: SourcePolicy = { trust: 'restricted', roots: [root], urlPrefixes: [], allowPrivateNetworks: false, ...limits };
const trusted: SourcePolicy = { ...restricted, trust: 'trusted', roots: [] };
const names = async (spec: string, policy: SourcePolicy) =>
  (await resolveSources(spec, { extension: '.csv', objects, policy })).map((f) => f.name.slice(dir.home.length));
const refused = (rule: RegExp) => (err: Error & { code?: string }) => err.message.match(rule) !== null && /source_forbidden|step/.test(String(err.code));

before(() => {
  mkdirSync(join(root, 'day'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'day', 'a.csv'), 'a\n');
  writeFileSync(join(root, 'day', 'b.csv'), 'b\n');
  writeFileSync(join(outside, 'secret.csv'), 'secret\n');
  symlinkSync(join(outside, 'secret.csv'), join(root, 'escape.csv'));
  symlinkSync(outside, join(root, 'escape-dir'));
  symlinkSync(join(root, 'day', 'a.csv'), join(root, 'inside-link.csv'));
  mkdirSync(join(root, 'mixed'));
  writeFileSync(join(root, 'mixed', 'ok.csv'), 'ok\n');
  symlinkSync(join(outside, 'secret.csv'), join(root, 'mixed', 'sneaky.csv'));
});
after(async () => {
  await objects.close();
  dir.cleanup();
});

describe('local paths', () => {
  test('a restricted run reads files, directories and globs under its roots', async () => {
    assert.deepEqual(await names(join(root, 'day', 'a.csv'), restricted), ['/root/day/a.csv']);
    assert.deepEqual(await names(join(root, 'day'), restricted), ['/root/day/a.csv', '/root/day/b.csv']);
    assert.deepEqual(await names(join(root, 'day', '*.csv'), restricted), ['/root/day/a.csv', '/root/day/b.csv']);
    assert.deepEqual(await names(join(root, 'inside-link.csv'), restricted), ['/root/inside-link.csv']);
  });

  test('/etc/passwd, .. traversal and paths that do not exist outside the roots are refused by the rule, unread', async () => {
    for (const spec of ['/etc/passwd', join(root, '..', 'outside', 'secret.csv'), join(root, 'day', '..', '..', 'outside'), '/nonexistent/x.csv']) {
      await assert.rejects(names(spec, restricted), refused(/outside the source roots.*sources\.roots \(.*root\).*SLUICE_SOURCE_ROOTS/));
    }
  });

  test('symlinks out of a root are refused (real paths are compared), as file, directory or glob match', async () => {
    await assert.rejects(names(join(root, 'escape.csv'), restricted), refused(/through a symbolic link/));
    await assert.rejects(names(join(root, 'escape-dir'), restricted), refused(/through a symbolic link/));
    await assert.rejects(names(join(root, 'escape-dir', 'secret.csv'), restricted), refused(/symbolic link/));
    await assert.rejects(names(join(root, 'mixed'), restricted), refused(/symbolic link/));
    await assert.rejects(names(join(root, 'mixed', '*.csv'), restricted), refused(/matches 1 file\(s\) outside sources\.roots/));
    await assert.rejects(names(join(outside, '*.csv'), restricted), refused(/outside the source roots/));
  });

  test('a trusted run reads any local path; a missing one is "not found"', async () => {
    assert.deepEqual(await names(join(outside, 'secret.csv'), trusted), ['/outside/secret.csv']);
    assert.deepEqual(await names(join(root, 'escape.csv'), trusted), ['/root/escape.csv']);
    await assert.rejects(names('/nonexistent/x.csv', trusted), /source not found: \/nonexistent\/x\.csv/);
  });

  test('a local file is described by its size and SHA-256 once read', async () => {
    const [f] = await resolveSources(join(root, 'day', 'a.csv'), { extension: '.csv', objects, policy: restricted });
    for await (const chunk of await f.open()) void chunk;
    // sha256 of "a\n"
    assert.deepEqual(f.describe(), { name: join(root, 'day', 'a.csv'), bytes: 2, sha256: '87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7' });
  });
});

describe('URL prefixes', () => {
  test('same origin, path prefix on a / boundary, no user info', () => {
    const yes = (u: string, p: string) => assert.equal(underPrefix(new URL(u), p), true, `${u} under ${p}`);
    const no = (u: string, p: string) => assert.equal(underPrefix(new URL(u), p), false, `${u} not under ${p}`);
    yes('https://data.example.org/exports/a.csv', 'https://data.example.org/exports/');
    yes('https://DATA.example.org:443/exports/a.csv', 'https://data.example.org/exports');
    yes('https://data.example.org/exports', 'https://data.example.org/exports');
    no('https://data.example.org/exports-old/a.csv', 'https://data.example.org/exports');
    no('https://data.example.org/exports/../secret', 'https://data.example.org/exports/');
    no('https://data.example.org/exports/%2e%2e/secret', 'https://data.example.org/exports/');
    no('https://data.example.org.evil.com/exports/a.csv', 'https://data.example.org/exports/');
    no('https://data.example.org@evil.com/exports/a.csv', 'https://data.example.org/');
    no('https://user:pw@data.example.org/exports/a.csv', 'https://data.example.org/');
    no('http://data.example.org/exports/a.csv', 'https://data.example.org/exports/');
    no('https://data.example.org:8443/exports/a.csv', 'https://data.example.org/exports/');
    no('https://data.example.org/a.csv', 'not a url');
  });

  test('a restricted run refuses URLs under no prefix, naming the setting', async () => {
    await assert.rejects(allowedAddress(restricted, new URL('https://example.org/a.csv')), refused(/not under an allowed URL prefix.*sources\.urlPrefixes \(none configured\).*SLUICE_SOURCE_URL_PREFIXES/));
    const p = { ...restricted, urlPrefixes: ['https://example.org/data/'] };
    await assert.rejects(allowedAddress(p, new URL('https://example.org/data/..%2fsecret')), refused(/encoded dots or slashes/));
    await assert.rejects(allowedAddress(p, new URL('ftp://example.org/data/a.csv')), refused(/only http and https/));
  });
});

describe('addresses', () => {
  test('classifies loopback, private, link-local (metadata), reserved and public, IPv4 inside IPv6 by its IPv4 part', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['[::ffff:7f00:1]', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
      ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.100.100.200', 'private'],
      ['fd00:ec2::254', 'private'], ['fc00::1', 'private'], ['64:ff9b::a00:1', 'private'], ['2002:a00:1::1', 'private'],
      ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['::ffff:169.254.169.254', 'link-local'],
      ['0.0.0.0', 'reserved'], ['::', 'reserved'], ['::127.0.0.1', 'reserved'], ['224.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'],
      ['192.0.2.1', 'reserved'], ['2001:db8::1', 'reserved'], ['not-an-ip', 'reserved'],
      ['8.8.8.8', 'public'], ['172.32.0.1', 'public'], ['1.1.1.1', 'public'], ['2606:4700::1111', 'public'], ['::ffff:8.8.8.8', 'public'],
    ];
    for (const [ip, cls] of cases) assert.equal(classifyAddress(ip), cls, ip);
  });

  test('restricted: localhost, private, link-local, mapped, 0.0.0.0 and decimal/octal/hex forms are refused before connecting', async (t) => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as AddressInfo;
    const hosts = ['localhost', '127.0.0.1', '169.254.169.254', '10.0.0.1', '[::ffff:127.0.0.1]', '[::1]', '0.0.0.0', '0', '2130706433', '0177.0.0.1', '0x7f.1', '127.1', '[fd00:ec2::254]'];
    for (const host of hosts) {
      const url = `http://${host}:${port}/a.csv`;
      const policy = { ...restricted, urlPrefixes: [`http://${host}:${port}/`] };
      await assert.rejects(resolveSources(url, { extension: '.csv', objects, policy }), refused(/resolves to .*, a (loopback|private|link-local|reserved) address.*sources\.allowPrivateNetworks/), host);
    }
    assert.equal(connections, 0);
  });

  test('every address a name resolves to must be allowed; trusted runs may use loopback but not private networks', async () => {
    const lying: Resolver = async () => [{ address: '93.184.215.14', family: 4 }, { address: '169.254.169.254', family: 4 }];
    const p = { ...restricted, urlPrefixes: ['http://data.example.org/'] };
    await assert.rejects(allowedAddress(p, new URL('http://data.example.org/a.csv'), lying), refused(/169\.254\.169\.254, a link-local address/));
    const pub: Resolver = async () => [{ address: '93.184.215.14', family: 4 }];
    assert.deepEqual(await allowedAddress(p, new URL('http://data.example.org/a.csv'), pub), { address: '93.184.215.14', family: 4 });
    assert.deepEqual(await allowedAddress(trusted, new URL('http://127.0.0.1:9/a.csv')), { address: '127.0.0.1', family: 4 });
    await assert.rejects(allowedAddress(trusted, new URL('http://10.0.0.1/a.csv')), refused(/private address/));
    await assert.rejects(allowedAddress(trusted, new URL('http://169.254.169.254/latest/meta-data/')), refused(/link-local/));
    const open = { ...restricted, allowPrivateNetworks: true, urlPrefixes: ['http://10.0.0.1/'] };
    assert.deepEqual(await allowedAddress(open, new URL('http://10.0.0.1/a.csv')), { address: '10.0.0.1', family: 4 });
  });
});
