import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../src/presets/runtime.ts';
import type { Principal } from '../../src/server/app.ts';
import { createApi } from '../../src/server/create-api.ts';

/** The API on a random loopback port over a runtime; `authenticate` decides who calls. */
export async function startApi(rt: Runtime, authenticate: (h: string | undefined) => Promise<Principal>): Promise<{ app: FastifyInstance; url: string }> {
  const app = createApi({ services: rt.services, registry: rt.registry, coordinator: rt.coordinator, query: rt.query, version: 'test', authenticate });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Reads a Server-Sent Events stream until `until` says stop or the stream ends. */
export async function readSse(res: Response, until: (e: { id: string; event: string; data: string }) => boolean): Promise<{ id: string; event: string; data: string }[]> {
  const out: { id: string; event: string; data: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    buf += value;
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const e = { id: '', event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data += line.slice(6);
      }
      if (!e.data && !e.id) continue;
      out.push(e);
      if (until(e)) {
        await reader.cancel();
        return out;
      }
    }
  }
}
