import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// The UI loads only its own files and talks only to this origin; React Flow sets inline styles.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Paths that are the API's or the probes', never a page of the UI. */
const NOT_PAGES = /^\/(api|static)(\/|$)|^\/(healthz|readyz|metrics)$/;

/**
 * Serves the built UI: its content-hashed files under /static (cached for good), and
 * index.html for every page URL (/, /runs/…, /pipelines/…), so a deep link or a reload
 * opens the right page. Returns the not-found hook: true when it answered with the page.
 */
export function serveUi(app: FastifyInstance, dir: string): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const index = readFileSync(join(dir, 'index.html'));
  void app.register(fastifyStatic, {
    root: join(dir, 'static'),
    prefix: '/static/',
    index: false,
    dotfiles: 'deny',
    immutable: true,
    maxAge: '365d',
    setHeaders: (res) => void res.header('x-content-type-options', 'nosniff'),
  });
  return (request, reply) => {
    const path = request.url.split('?')[0];
    if ((request.method !== 'GET' && request.method !== 'HEAD') || NOT_PAGES.test(path)) return false;
    void reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .send(index);
    return true;
  };
}
