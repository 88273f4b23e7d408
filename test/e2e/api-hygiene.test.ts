import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useFixtureApi } from '../helpers/fixture-api.ts';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApi } from '../../src/server/create-api.ts';

// What Schemathesis found: the API answers malformed requests with the right 4xx as
// problem+json, never a 500, and its document says what the server does.
const api = useFixtureApi();

async function send(method: string, path: string, body?: string, type = 'application/json') {
  const res = await fetch(`${api.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': type }, body });
  const text = await res.text();
  const problem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
  return { status: res.status, headers: res.headers, problem, body: text ? JSON.parse(text) : null };
}

describe('content types and methods', () => {
  test('a body that is not JSON is 415 problem+json', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await send('POST', '/api/v1/runs', '{"pipeline":"gate"}', type);
      assert.equal(r.status, 415, type);
      assert.ok(r.problem, type);
      assert.equal(r.body.code, 'unsupported_media_type');
    }
    const ok = await send('POST', '/api/v1/runs', '{"pipeline":"gate"}', 'application/json; charset=utf-8');
    assert.equal(ok.status, 201);
    const broken = await send('POST', '/api/v1/runs', '{"pipeline":', 'application/json');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.field, 'body');
  });

  test('a method a path does not declare is 405 with Allow, before auth or body', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/api/v1/runs', 'POST, GET, HEAD'],
      ['PATCH', '/healthz', 'GET, HEAD'],
      ['PUT', '/api/v1/runs/00000000-0000-4000-8000-000000000000/cancel', 'POST'],
      ['GET', '/api/v1/workers/ping', 'POST'],
      ['QUERY', '/api/v1/events', 'GET, HEAD'],
      ['POST', '/api/v1/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await send(method, path, method === 'GET' ? undefined : 'not json', 'text/plain');
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
      assert.ok(r.problem);
      assert.equal(r.body.code, 'method_not_allowed');
    }
    assert.equal((await send('GET', '/api/v1/nothing')).status, 404);
    // fetch refuses to send TRACE.
    const trace = await new Promise<{ status: number; allow: string | undefined }>((resolve, reject) => {
      request(`${api.url}/api/v1/runs`, { method: 'TRACE' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, allow: res.headers.allow });
      }).on('error', reject).end();
    });
    assert.deepEqual(trace, { status: 405, allow: 'POST, GET, HEAD' });
    // HEAD of a stream answers its head and ends, instead of holding a stream open.
    const head = await new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
      request(`${api.url}/api/v1/events`, { method: 'HEAD' }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'] }));
      }).on('error', reject).end();
    });
    assert.deepEqual(head, { status: 200, type: 'text/event-stream' });
  });
});

describe('parameters', () => {
  test('path parameters are judged by their schema up to its maxLength, and refused as problems beyond', async () => {
    const name = (n: number) => 'p'.repeat(n);
    const within = await send('GET', `/api/v1/pipelines/${name(150)}`);
    assert.equal(within.status, 404);
    assert.ok(within.problem);
    const atLimit = await send('GET', `/api/v1/pipelines/${name(200)}`);
    assert.equal(atLimit.status, 404);
    const over = await send('GET', `/api/v1/pipelines/${name(201)}`);
    assert.equal(over.status, 400);
    assert.equal(over.body.field, 'path.name');
    assert.equal((await send('GET', `/api/v1/assets/${name(300)}/checks`)).status, 404);
    const overRouter = await send('GET', `/api/v1/assets/${name(301)}/checks`);
    assert.equal(overRouter.status, 400);
    assert.ok(overRouter.problem);
    assert.equal(overRouter.body.field, 'path');
    const huge = await send('GET', `/api/v1/runs/${name(5000)}`);
    assert.equal(huge.status, 400);
    assert.ok(huge.problem);
    const badEncoding = await send('GET', '/api/v1/pipelines/%E0%A4%A');
    assert.equal(badEncoding.status, 400);
    assert.ok(badEncoding.problem);
  });

  test('__proto__ and constructor keys are refused like any unknown field', async () => {
    const bodies: [string, string][] = [
      ['{"pipeline":"gate","params":{"__proto__":{"flakyFailures":0}}}', 'body.params.__proto__'],
      ['{"pipeline":"gate","params":{"constructor":1}}', 'body.params.constructor'],
      ['{"pipeline":"gate","__proto__":{"partition":"x"}}', 'body.__proto__'],
    ];
    for (const [body, field] of bodies) {
      const r = await send('POST', '/api/v1/runs', body);
      assert.equal(r.status, 400, body);
      assert.equal(r.body.code, 'validation');
      assert.equal(r.body.field, field);
      assert.match(r.body.detail, /unknown field/);
    }
    const backfill = await send('POST', '/api/v1/backfills', '{"pipeline":"retail","from":"2010-12-01","to":"2010-12-01","params":{"__proto__":{}}}');
    assert.equal(backfill.body.field, 'body.params.__proto__');
    for (const key of ['__proto__', 'constructor']) {
      const q = await send('GET', `/api/v1/runs?${key}=1`);
      assert.equal(q.status, 400);
      assert.equal(q.body.field, `query.${key}`);
    }
    assert.equal(({} as Record<string, unknown>).flakyFailures, undefined);
  });

  test('what Schemathesis turned into 500s: NUL characters, offsets the store refuses, a null body', async () => {
    const nul = await send('POST', '/api/v1/runs', JSON.stringify({ pipeline: 'gate', params: { note: 'a\u0000b' } }));
    assert.equal(nul.status, 400);
    assert.equal(nul.body.field, 'body.params.note');
    const nulQuery = await send('GET', '/api/v1/assets/raw.online_retail/checks?partition=%00');
    assert.equal(nulQuery.status, 400);
    for (const at of ['9476-12-31T15:45:59.45+19:18', '0000-01-01T00:00:00Z', '2010-12-01T00:00:00-15:59']) {
      const r = await send('GET', `/api/v1/runs?createdFrom=${encodeURIComponent(at)}&createdTo=${encodeURIComponent(at)}`);
      assert.equal(r.status, 200, `${at}: ${JSON.stringify(r.body)}`);
    }
    const nullBody = await send('POST', '/api/v1/workers/ping', 'null');
    assert.equal(nullBody.status, 400);
    assert.equal(nullBody.body.code, 'validation');
    const badKey = await send('POST', '/api/v1/runs', JSON.stringify({ pipeline: 'retail', partition: 'yesterday' }));
    assert.equal(badKey.body.field, 'body.partition');
  });

  test('Last-Event-ID and ?after must be event ids', async () => {
    const bad = await send('GET', '/api/v1/events?after=-1');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'query.after');
    const res = await fetch(`${api.url}/api/v1/events`, { headers: { 'last-event-id': 'abc' } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { field: string }).field, 'header.last-event-id');
  });
});

describe('the OpenAPI document', () => {
  test('describes the event streams, their caps and the optional ping body', async () => {
    const doc = (await send('GET', '/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/events'].get;
    const sse = op.responses['200'].content['text/event-stream'].schema;
    assert.match(sse.description, /Last-Event-ID/);
    assert.deepEqual(sse.oneOf.map((s: { title: string }) => s.title), ['event', 'end', 'overflow']);
    const data = sse.oneOf[0].properties.data;
    assert.equal(data.contentMediaType, 'application/json');
    assert.deepEqual(data.contentSchema.required, ['id', 'runId', 'type', 'step', 'attemptId', 'ts', 'payload']);
    assert.deepEqual(sse.oneOf[2].properties.data.contentSchema.required, ['lastEventId', 'reason']);
    assert.ok(op.responses['429'].headers['Retry-After']);
    assert.ok(op.responses['503'].headers['Retry-After']);
    assert.ok(op.parameters.some((p: { name: string; in: string }) => p.name === 'last-event-id' && p.in === 'header'));
    assert.equal(doc.paths['/api/v1/workers/ping'].post.requestBody.required, false);
    assert.equal(doc.paths['/api/v1/runs'].post.requestBody.required, true);
    assert.ok(doc.paths['/readyz'].get.responses['503']);
    assert.deepEqual(doc.paths['/api/v1/runs'].get.security, [{ bearer: [] }]);
  });
});

describe('event stream caps', () => {
  test('beyond the per-token cap 429, beyond the global cap 503, both with Retry-After; a closed stream frees its slot; streams end after maxStreamMs', async () => {
    const capped = createApi({
      services: api.rt.services, registry: api.rt.registry, coordinator: api.rt.coordinator, query: api.rt.query, version: 'test',
      authenticate: async (h) => ({ role: 'view', name: h?.slice('Bearer '.length) ?? 'anonymous' }),
      sse: { maxBufferedBytes: 1 << 20, stallMs: 1_000, maxStreamMs: 1_500, maxStreamsPerToken: 2, maxStreams: 3 },
    });
    await capped.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(capped.server.address() as AddressInfo).port}`;
    const streams: AbortController[] = [];
    const open = async (who: string) => {
      const ac = new AbortController();
      streams.push(ac);
      const res = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${who}` }, signal: ac.signal });
      return { res, ac };
    };
    try {
      assert.equal((await open('a')).res.status, 200);
      const a2 = await open('a');
      assert.equal(a2.res.status, 200);
      const a3 = (await open('a')).res;
      assert.equal(a3.status, 429);
      assert.match(a3.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal(((await a3.json()) as { code: string }).code, 'too_many_requests');
      assert.equal((await open('b')).res.status, 200);
      const b2 = (await open('b')).res;
      assert.equal(b2.status, 503);
      assert.match(b2.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal(((await b2.json()) as { code: string }).code, 'unavailable');
      a2.ac.abort();
      let again = 0;
      for (let i = 0; i < 100 && again !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const r = await open('c');
        again = r.res.status;
        if (again !== 200) await r.res.body?.cancel();
      }
      assert.equal(again, 200);
      // A stream lasts maxStreamMs, then ends; the client comes back with Last-Event-ID.
      for (const ac of streams) ac.abort();
      let res = (await open('d')).res;
      for (let i = 0; i < 100 && res.status !== 200; i++) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
        res = (await open('d')).res;
      }
      const t = performance.now();
      await res.text();
      const lasted = performance.now() - t;
      assert.ok(lasted >= 1_000 && lasted < 10_000, `the stream lasted ${lasted} ms`);
    } finally {
      for (const ac of streams) ac.abort();
      await capped.close();
    }
  });
});
