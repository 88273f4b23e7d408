import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../src/presets/runtime.ts';
import { authenticate } from '../../src/server/auth/roles.ts';
import { issueToken } from '../../src/server/auth/tokens.ts';
import { startApi } from '../helpers/api.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

const dir = tempHome();
let rt: Runtime;
let app: FastifyInstance;
let url: string;
const tokens: Record<string, string> = {};

before(async () => {
  rt = await openTestRuntime(dir.home);
  ({ app, url } = await startApi(rt, async (h) => {
    const t = await authenticate(h, rt.services.metadata.tokens);
    return { role: t.role, name: t.name };
  }));
  for (const role of ['view', 'edit', 'admin'] as const) tokens[role] = (await issueToken(rt.services.metadata.tokens, { role, name: role })).token;
  tokens.revoked = (await issueToken(rt.services.metadata.tokens, { role: 'admin', name: 'gone' })).token;
  await rt.services.metadata.tokens.revoke('gone');
});
after(async () => {
  await app?.close();
  await rt?.close();
  dir.cleanup();
});

interface Op {
  method: string;
  path: string;
  role: string | undefined;
}

async function operations(): Promise<Op[]> {
  const doc = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-required-role'?: string }>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      // A syntactically valid value for every path parameter.
      path: path.replace(/\{id\}/g, '00000000-0000-4000-8000-000000000000').replace(/\{[^}]+\}/g, 'x'),
      role: op['x-required-role'],
    })),
  );
}

async function status(op: Op, token?: string, raw?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (raw !== undefined) headers.authorization = raw;
  else if (token) headers.authorization = `Bearer ${token}`;
  const ac = new AbortController();
  const res = await fetch(`${url}${op.path}`, { method: op.method, headers, body: op.method === 'GET' || op.method === 'DELETE' ? undefined : '{}', signal: ac.signal });
  ac.abort(); // event streams would otherwise stay open
  return res.status;
}

const RANK: Record<string, number> = { view: 1, edit: 2, admin: 3 };

test('every protected endpoint refuses missing, malformed and revoked tokens with 401', async () => {
  const ops = (await operations()).filter((o) => o.role !== undefined);
  assert.ok(ops.length >= 15, `only ${ops.length} protected operations`);
  for (const op of ops) {
    assert.equal(await status(op), 401, `${op.method} ${op.path} without a token`);
    assert.equal(await status(op, undefined, 'Bearer nonsense'), 401, `${op.method} ${op.path} malformed`);
    assert.equal(await status(op, undefined, `Basic ${tokens.admin}`), 401, `${op.method} ${op.path} wrong scheme`);
    assert.equal(await status(op, tokens.revoked), 401, `${op.method} ${op.path} revoked`);
  }
});

test('each role gets exactly its rights: view and edit get 403 above their rank, never below', async () => {
  const ops = (await operations()).filter((o) => o.role !== undefined);
  for (const op of ops) {
    for (const role of ['view', 'edit', 'admin']) {
      const s = await status(op, tokens[role]);
      if (RANK[role] < RANK[op.role!]) assert.equal(s, 403, `${role} on ${op.method} ${op.path} (needs ${op.role})`);
      else assert.ok(s !== 401 && s !== 403, `${role} on ${op.method} ${op.path} got ${s}`);
    }
  }
  const mutating = ops.filter((o) => o.method !== 'GET');
  assert.ok(mutating.every((o) => o.role !== 'view'), 'no mutating endpoint is open to view');
});

test('health endpoints need no token; 401 carries a Bearer challenge', async () => {
  for (const p of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']) assert.equal((await fetch(`${url}${p}`)).status, 200, p);
  const res = await fetch(`${url}/api/v1/runs`);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  const body = (await res.json()) as { code: string };
  assert.equal(body.code, 'unauthorized');
});

test('tokens over the API: admin creates, lists without secrets, revokes; the new token works until revoked', async () => {
  const h = { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' };
  const created = (await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify({ role: 'view', name: 'ci-reader' }) })).json()) as { token: string };
  assert.match(created.token, /^slc_/);
  const list = await (await fetch(`${url}/api/v1/tokens`, { headers: h })).json();
  assert.ok(!JSON.stringify(list).includes(created.token));
  assert.equal((await fetch(`${url}/api/v1/runs`, { headers: { authorization: `Bearer ${created.token}` } })).status, 200);
  assert.equal((await fetch(`${url}/api/v1/tokens/ci-reader`, { method: 'DELETE', headers: h })).status, 200);
  assert.equal((await fetch(`${url}/api/v1/runs`, { headers: { authorization: `Bearer ${created.token}` } })).status, 401);
});
