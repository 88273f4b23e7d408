import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '../core/errors.ts';

/** Methods a browser sends cross-origin without asking first, and that change nothing here. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const quote = (v: string | undefined) => JSON.stringify((v ?? '').slice(0, 100));

/**
 * Local-dev mode serves calls without a token as admin, so only this machine may reach
 * it. Listening on loopback is not enough against a web page: DNS rebinding points a name
 * it controls at 127.0.0.1, and a form can post across origins. So the Host header must
 * name the loopback address and port the socket is bound to, and a mutating request a
 * browser marks as coming from another origin is refused. Clients that are not browsers
 * send neither Origin nor Sec-Fetch-Site and pass.
 */
export function localDevGuard(): (request: FastifyRequest) => void {
  return (request) => {
    const port = request.socket.localPort;
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    const host = request.headers.host?.toLowerCase();
    if (host === undefined || !hosts.includes(host)) {
      throw new ForbiddenError(`local-dev mode answers only Host ${hosts.join(', ')}, not ${quote(request.headers.host)}`);
    }
    if (SAFE.has(request.method)) return;
    const origin = request.headers.origin?.toLowerCase();
    if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) {
      throw new ForbiddenError(`local-dev mode refuses ${request.method} from origin ${quote(request.headers.origin)}`);
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new ForbiddenError(`local-dev mode refuses ${request.method} from a ${quote(site)} page`);
    }
  };
}
