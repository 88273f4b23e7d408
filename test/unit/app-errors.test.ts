import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { localDevGuard } from '../../src/server/local-dev-guard.ts';
import { route } from '../../src/server/route.ts';

const apps: FastifyInstance[] = [];
after(async () => {
  for (const a of apps) await a.close();
});

const routes = [
  route({
    method: 'GET', path: '/boom', operationId: 'boom', summary: 'fails', tag: 't', access: 'public', response: z.object({}),
    handler: async () => {
      throw new Error('secret detail of the failure');
    },
  }),
  route({
    method: 'POST', path: '/things', operationId: 'make', summary: 'makes', tag: 't', access: 'edit', response: z.object({ ok: z.boolean() }),
    handler: async () => ({ ok: true }),
  }),
];

test('a 500 keeps its details out of the body and is logged under the request id the body carries', async () => {
  const logged: { obj: Record<string, unknown>; msg?: string }[] = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (obj: object | string, msg?: string) => void logged.push({ obj: obj as Record<string, unknown>, msg }) };
  const app = buildApp({ routes, version: 't', logger, authenticate: async () => ({ role: 'admin', name: 'x' }) });
  apps.push(app);
  const res = await app.inject({ method: 'GET', url: '/boom' });
  assert.equal(res.statusCode, 500);
  assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
  const body = res.json() as { code: string; detail: string; requestId: string };
  assert.equal(body.code, 'internal');
  assert.doesNotMatch(body.detail, /secret/);
  assert.match(body.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(logged.length, 1);
  assert.equal(logged[0].obj.requestId, body.requestId);
  assert.match(String(logged[0].obj.err), /secret detail of the failure\n\s+at /);
  // A 4xx is the caller's business: it carries an id too, and is not logged as a failure.
  const missing = await app.inject({ method: 'GET', url: '/nope' });
  assert.match((missing.json() as { requestId: string }).requestId, /^[0-9a-f-]{36}$/);
  assert.equal(logged.length, 1);
});

test('local-dev mode answers loopback Host headers with its port only, and refuses cross-origin writes', async () => {
  const app = buildApp({ routes, version: 't', anonymous: true, guard: localDevGuard(), authenticate: async () => ({ role: 'admin', name: 'local-dev' }) });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const call = (method: string, path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    assert.equal(await call('GET', '/api/v1/openapi.json', { host }), 200, host);
  }
  for (const host of ['127.0.0.1', `localhost:${port + 1}`, `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `0.0.0.0:${port}`]) {
    assert.equal(await call('GET', '/api/v1/openapi.json', { host }), 403, host);
  }
  const host = `127.0.0.1:${port}`;
  assert.equal(await call('POST', '/things', { host }), 200, 'no Origin: not a browser');
  assert.equal(await call('POST', '/things', { host, origin: `http://localhost:${port}` }), 200);
  assert.equal(await call('POST', '/things', { host, origin: 'http://evil.example' }), 403);
  assert.equal(await call('POST', '/things', { host, origin: 'null' }), 403);
  assert.equal(await call('POST', '/things', { host, 'sec-fetch-site': 'cross-site' }), 403);
  assert.equal(await call('POST', '/things', { host, 'sec-fetch-site': 'same-site' }), 403);
  assert.equal(await call('POST', '/things', { host, 'sec-fetch-site': 'same-origin', origin: `http://${host}` }), 200);
  assert.equal(await call('GET', '/api/v1/openapi.json', { host, origin: 'http://evil.example' }), 200, 'a read without CORS is unreadable to the page');
  const doc = (await (await fetch(`http://${host}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
  assert.deepEqual(doc.paths['/things'].post.security, [{ bearer: [] }, {}]);
});
