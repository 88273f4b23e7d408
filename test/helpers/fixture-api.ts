import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../src/presets/runtime.ts';
import { startApi } from './api.ts';
import { openTestRuntime, tempHome } from './runtime.ts';

export const FIXTURE_PIPELINES = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));

export interface FixtureApi {
  readonly rt: Runtime;
  readonly app: FastifyInstance;
  readonly url: string;
  /** A JSON call; the body parsed (null when empty), with status and content type. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; type: string; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Polls a run until it has finished; fails after 30 s. */
  waitRun(id: string): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Registers, for the calling test file, an embedded runtime on the fixture pipelines and
 * the API over it on a loopback port, called as admin; both are closed after the file.
 */
export function useFixtureApi(): FixtureApi {
  const dir = tempHome();
  let rt: Runtime;
  let app: FastifyInstance;
  let url = '';
  before(async () => {
    rt = await openTestRuntime(dir.home, { pipelines: [FIXTURE_PIPELINES] });
    ({ app, url } = await startApi(rt, async () => ({ role: 'admin', name: 'test' })));
  });
  after(async () => {
    await app?.close();
    await rt?.close();
    dir.cleanup();
  });
  const call: FixtureApi['call'] = async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };
  return {
    get rt() { return rt; },
    get app() { return app; },
    get url() { return url; },
    call,
    async waitRun(id) {
      for (let i = 0; i < 600; i++) {
        const r = await call('GET', `/api/v1/runs/${id}`);
        if (r.body.run.finishedAt) return r.body;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`run ${id} did not finish within 30 s`);
    },
  };
}
