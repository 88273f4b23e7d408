import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import type { SourcePolicy } from '../../src/sdk/source-policy.ts';
import { resolveSources, type SourceFile } from '../../src/sdk/sources.ts';
import type { Resolver } from '../../src/sdk/url-policy.ts';
import { urlSource } from '../../src/sdk/url-source.ts';
import { tempHome } from '../helpers/runtime.ts';

// A real HTTP server on 127.0.0.1 plays every kind of source: one that changes, one that
// says "not modified", one that dies mid-body, one that stalls, one that is too big.
const dir = tempHome('sluice-url-');
const objects = createLocalObjectStore({ root: join(dir.home, 'objects') });
const policy: SourcePolicy = {
  trust: 'trusted', roots: [], urlPrefixes: [], allowPrivateNetworks: false, connectTimeoutMs: 2_000, idleTimeoutMs: 300, maxBytes: 10_000,
};
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let content = 'v1\n';
let server: Server;
let base: string;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const etagOf = (s: string) => `"${sha(s).slice(0, 16)}"`;

before(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const path = req.url ?? '';
    if (path === '/etag.csv') {
      const tag = etagOf(content);
      if (req.headers['if-none-match'] === tag) return void res.writeHead(304, { etag: tag }).end();
      return void res.writeHead(200, { etag: tag, 'content-length': Buffer.byteLength(content) }).end(content);
    }
    if (path === '/lastmod.csv') {
      const stamp = 'Wed, 01 Dec 2010 08:00:00 GMT';
      if (req.headers['if-modified-since'] === stamp) return void res.writeHead(304).end();
      return void res.writeHead(200, { 'last-modified': stamp }).end('lm\n');
    }
    if (path === '/plain.csv') return void res.writeHead(200).end(content);
    if (path === '/dies.csv' || path === '/dies-chunked.csv') {
      res.writeHead(200, path === '/dies.csv' ? { 'content-length': 1000, etag: '"d"' } : { etag: '"d"' });
      res.write('x'.repeat(100));
      return void setTimeout(() => res.socket?.destroy(), 20);
    }
    if (path === '/stalls.csv') {
      res.writeHead(200);
      res.write('first bytes\n');
      return; // and nothing more, ever
    }
    if (path === '/no-headers.csv') return; // never answers
    if (path === '/big.csv') return void res.writeHead(200, { 'content-length': 20_000 }).end('y'.repeat(20_000));
    if (path === '/big-chunked.csv') {
      res.writeHead(200);
      for (let i = 0; i < 20; i++) res.write('z'.repeat(1000));
      return void res.end();
    }
    if (path === '/moved.csv') return void res.writeHead(302, { location: '/etag.csv' }).end();
    if (path === '/to-metadata.csv') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (path === '/gone.csv') return void res.writeHead(404).end();
    if (path === '/flaky.csv') return void res.writeHead(503).end();
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await objects.close();
  dir.cleanup();
});

async function fetchOne(url: string, cachePrefix = 'cache'): Promise<{ file: SourceFile; text: string }> {
  const [file] = await resolveSources(url, { extension: '.csv', objects, policy, cachePrefix });
  let text = '';
  for await (const chunk of await file.open()) text += String(chunk);
  return { file, text };
}

const cached = async (prefix: string) => (await objects.list(`${prefix}/`)).map((o) => o.key);

test('ETag: a changed file on the same URL is downloaded again; an unchanged one is the cached copy after a 304', async () => {
  content = 'v1\n';
  const first = await fetchOne(`${base}/etag.csv`);
  assert.equal(first.text, 'v1\n');
  assert.deepEqual(first.file.describe(), { name: `${base}/etag.csv (etag.csv)`, bytes: 3, sha256: sha('v1\n'), fetch: 'downloaded' });

  const again = await fetchOne(`${base}/etag.csv`);
  assert.equal(seen.at(-1)!.headers['if-none-match'], etagOf('v1\n'));
  assert.equal(again.text, 'v1\n');
  assert.equal(again.file.describe().fetch, 'unchanged');

  content = 'v2, changed\n';
  const changed = await fetchOne(`${base}/etag.csv`);
  assert.equal(changed.text, 'v2, changed\n');
  assert.deepEqual(changed.file.describe(), { name: `${base}/etag.csv (etag.csv)`, bytes: 12, sha256: sha('v2, changed\n'), fetch: 'downloaded' });
  // The replaced copy is gone: one entry, one body.
  assert.equal((await cached('cache')).length, 2);
});

test('Last-Modified is revalidated with If-Modified-Since; a server with no validators is downloaded every time', async () => {
  await fetchOne(`${base}/lastmod.csv`, 'lm');
  const again = await fetchOne(`${base}/lastmod.csv`, 'lm');
  assert.equal(seen.at(-1)!.headers['if-modified-since'], 'Wed, 01 Dec 2010 08:00:00 GMT');
  assert.deepEqual([again.text, again.file.describe().fetch], ['lm\n', 'unchanged']);

  content = 'plain 1\n';
  await fetchOne(`${base}/plain.csv`, 'plain');
  content = 'plain 2\n';
  const next = await fetchOne(`${base}/plain.csv`, 'plain');
  assert.equal(seen.at(-1)!.headers['if-none-match'], undefined);
  assert.deepEqual([next.text, next.file.describe().fetch], ['plain 2\n', 'downloaded']);
});

test('a server that dies mid-body: a retryable error, and nothing is cached', async () => {
  for (const path of ['/dies.csv', '/dies-chunked.csv']) {
    const prefix = `dies${path.length}`;
    await assert.rejects(fetchOne(`${base}${path}`, prefix), (err: Error & { code: string; retryable: boolean }) => {
      assert.equal(err.code, 'source_unavailable');
      assert.equal(err.retryable, true);
      assert.match(err.message, /broke off after 100 bytes/);
      return true;
    });
    assert.deepEqual(await cached(prefix), [], path);
    // The next attempt asks unconditionally: there is no copy to revalidate.
    await assert.rejects(fetchOne(`${base}${path}`, prefix), /broke off after 100 bytes/);
    assert.equal(seen.at(-1)!.headers['if-none-match'], undefined);
  }
});

test('a server that stalls, before or after the headers, ends with the idle timeout', async () => {
  for (const path of ['/stalls.csv', '/no-headers.csv']) {
    const started = Date.now();
    await assert.rejects(fetchOne(`${base}${path}`, 'slow'), (err: Error & { code: string; retryable: boolean }) => {
      assert.equal(err.code, 'source_timeout');
      assert.equal(err.retryable, true);
      assert.match(err.message, /sent nothing for 300 ms \(sources\.idleTimeoutMs\)/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(await cached('slow'), []);
  }
});

test('a body larger than maxBytes fails whether announced or not, and is not cached', async () => {
  await assert.rejects(fetchOne(`${base}/big.csv`, 'big'), { code: 'source_too_large', message: /larger than sources\.maxBytes \(10000 bytes\): 20000 bytes announced/ });
  await assert.rejects(fetchOne(`${base}/big-chunked.csv`, 'big'), { code: 'source_too_large', message: /more than 10000 bytes received/ });
  assert.deepEqual(await cached('big'), []);
});

test('HTTP errors: 4xx is final, 5xx retryable; redirects are followed and each hop is checked', async () => {
  await assert.rejects(fetchOne(`${base}/gone.csv`, 'err'), { code: 'source_unavailable', retryable: false, message: /HTTP 404/ });
  await assert.rejects(fetchOne(`${base}/flaky.csv`, 'err'), { code: 'source_unavailable', retryable: true, message: /HTTP 503/ });
  content = 'moved\n';
  assert.equal((await fetchOne(`${base}/moved.csv`, 'moved')).text, 'moved\n');
  await assert.rejects(fetchOne(`${base}/to-metadata.csv`, 'err'), { code: 'source_forbidden', message: /169\.254\.169\.254, a link-local address/ });
});

test('the connection goes to the address that was checked: one lookup per hop, no second chance to rebind', async () => {
  let lookups = 0;
  // A name no real DNS knows, first resolving to this test's server, then to the metadata address.
  const rebinding: Resolver = async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '169.254.169.254', family: 4 }];
  content = 'pinned\n';
  const url = `http://data.rebind.test:${(server.address() as AddressInfo).port}/etag.csv`;
  const file = await urlSource(url, { objects, policy, cachePrefix: 'pinned', resolver: rebinding });
  let text = '';
  for await (const chunk of await file.open()) text += String(chunk);
  assert.equal(text, 'pinned\n');
  assert.equal(lookups, 1);
  assert.match(String(seen.at(-1)!.headers.host), /^data\.rebind\.test:\d+$/);
  await assert.rejects(urlSource(url, { objects, policy, cachePrefix: 'pinned', resolver: rebinding }), { code: 'source_forbidden' });
});

test('a server that never completes the connection ends with the connect timeout', async (t) => {
  // A stopped process with a full accept queue: the kernel drops further SYNs, so connecting hangs.
  const listener = spawn(process.execPath, ['-e', "const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const held: Socket[] = [];
  t.after(() => {
    for (const s of held) s.destroy();
    listener.kill('SIGKILL');
  });
  const port = await new Promise<number>((r) => listener.stdout!.once('data', (d) => r(Number(String(d)))));
  process.kill(listener.pid!, 'SIGSTOP');
  for (let i = 0; i < 2; i++) {
    const s = connect(port, '127.0.0.1');
    held.push(s);
    await new Promise((r) => s.once('connect', r));
  }
  const started = Date.now();
  await assert.rejects(fetchOne(`http://127.0.0.1:${port}/a.csv`, 'unreachable'), {
    code: 'source_timeout', retryable: true, message: /cannot connect to source .* within 2000 ms \(sources\.connectTimeoutMs\)/,
  });
  assert.ok(Date.now() - started < 4_000);
});
