import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface StalledClient {
  readonly socket: net.Socket;
  /** The response's status code, once its first bytes arrived. */
  status: number | null;
  /** The response head (status line and headers). */
  head: string;
  /** Set when the socket closed, for whatever reason. */
  closed: boolean;
}

/**
 * Opens `n` raw HTTP connections that send one GET and then never read past the first
 * chunk of the answer: the socket is paused, so the kernel's buffers fill and the server
 * sees a client that takes nothing. Resolves once every client has a status or closed.
 */
export async function openStalledClients(url: string, path: string, headers: Record<string, string>, n: number, timeoutMs = 60_000): Promise<StalledClient[]> {
  const { hostname, port } = new URL(url);
  const request = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Accept: text/event-stream', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  const clients: StalledClient[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const socket = net.connect(Number(port), hostname);
    const c: StalledClient = { socket, status: null, head: '', closed: false };
    clients.push(c);
    ready.push(new Promise((resolve) => {
      socket.once('connect', () => socket.write(request));
      socket.once('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        c.head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')));
        c.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        socket.pause();
        resolve();
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        c.closed = true;
        resolve();
      });
    }));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(ready),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`stalled clients: not all answered within ${timeoutMs} ms`)), timeoutMs))),
  ]).finally(() => clearTimeout(timer));
  return clients;
}

/**
 * Lets clients read again and waits until each has closed; returns how many had not
 * after `timeoutMs`. A client the server destroyed reads what the kernel still holds,
 * then sees the reset.
 */
export async function resumeUntilClosed(clients: readonly StalledClient[], timeoutMs: number): Promise<number> {
  await Promise.race([
    Promise.all(clients.map((c) => c.closed ? undefined : new Promise<void>((resolve) => {
      c.socket.once('close', () => resolve());
      c.socket.on('data', () => undefined);
      c.socket.resume();
    }))),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
  return clients.filter((c) => !c.closed).length;
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
