import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { BusyError } from '../../src/server/busy-error.ts';
import { SseWriter, type OverflowReason } from '../../src/server/sse/sse-writer.ts';
import { StreamLimiter } from '../../src/server/sse/stream-limiter.ts';

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A server whose one response is driven by `drive`, and a raw client that reads only when told. */
async function pair(drive: (res: http.ServerResponse) => Promise<void>) {
  let driven!: Promise<void>;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    driven = drive(res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  client.on('error', () => undefined);
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  client.pause();
  while (!driven) await new Promise((r) => setTimeout(r, 10));
  /** What the client receives once it reads again, until the response or the connection ends. */
  const readAll = () => new Promise<string>((resolve) => {
    let text = '';
    client.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (text.endsWith('\r\n0\r\n\r\n')) resolve(text);
    });
    client.once('close', () => resolve(text));
    client.resume();
  });
  return { client, driven: () => driven, readAll };
}

const event = (id: number, size: number) => `id: ${id}\nevent: log\ndata: ${JSON.stringify({ id, pad: 'x'.repeat(size) })}\n\n`;

test('a client that does not drain in time gets overflow with the last id sent, then is cut off', async () => {
  const reasons: OverflowReason[] = [];
  let writer!: SseWriter;
  let refused = 0;
  const p = await pair(async (res) => {
    writer = new SseWriter(res, { maxBufferedBytes: 1 << 20, stallMs: 300 }, (r) => reasons.push(r));
    // Far more than loopback's kernel buffers hold, in events a little under 64 KiB.
    for (let id = 1; id <= 400; id++) {
      if (!(await writer.write(event(id, 60_000), id))) {
        refused = id;
        break;
      }
    }
  });
  await p.driven();
  assert.deepEqual(reasons, ['stalled']);
  assert.equal(writer.open, false);
  assert.ok(refused > 10 && refused < 400, `stopped at ${refused}`);
  assert.equal(writer.lastId, refused);
  // Nobody reads: after stallMs more the server destroys the connection, freeing its buffer.
  const t = performance.now();
  await writer.closed;
  assert.ok(performance.now() - t < 2_000);
  p.client.destroy();
});

test('a client that reads gets every event, then the overflow frame naming the last one', async () => {
  const reasons: OverflowReason[] = [];
  let last = 0;
  const p = await pair(async (res) => {
    const writer = new SseWriter(res, { maxBufferedBytes: 64 * 1024, stallMs: 5_000 }, (r) => reasons.push(r));
    // One write bigger than the kernel buffers and the cap together: refused at once.
    for (let id = 1; id <= 3; id++) {
      if (!(await writer.write(event(id, id === 3 ? 16 << 20 : 100), id))) break;
    }
    last = writer.lastId;
  });
  await p.driven();
  assert.deepEqual(reasons, ['buffer']);
  assert.equal(last, 3);
  const text = await p.readAll();
  p.client.destroy();
  const frames = text.split('\n\n').filter((f) => /event: /.test(f));
  assert.match(frames.at(-1)!, /event: overflow\nid: 3\ndata: \{"lastEventId":3,"reason":"[^"]+"\}$/);
  assert.equal(frames.filter((f) => /id: \d+\nevent: log/.test(f)).length, 3);
});

test('the stream caps refuse per token (429) and overall (503), and count released slots', () => {
  const limiter = new StreamLimiter({ maxStreamsPerToken: 2, maxStreams: 3 });
  const a1 = limiter.acquire('a');
  limiter.acquire('a');
  assert.throws(() => limiter.acquire('a'), (e: unknown) => e instanceof BusyError && e.code === 'too_many_requests' && e.retryAfterSeconds > 0);
  const b1 = limiter.acquire('b');
  assert.throws(() => limiter.acquire('b'), (e: unknown) => e instanceof BusyError && e.code === 'unavailable');
  a1();
  a1();
  assert.equal(limiter.open, 2);
  limiter.acquire('b');
  b1();
  assert.equal(limiter.open, 2);
});
