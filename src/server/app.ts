import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ForbiddenError, SluiceError } from '../core/errors.ts';
import { openApiDocument } from './openapi.ts';
import { fromZod, toProblem } from './problem.ts';
import { roleAllows, type Role } from './auth/roles.ts';
import type { AnyRoute } from './route.ts';

export interface Principal {
  readonly role: Role;
  readonly name: string;
}

export interface AppOptions {
  readonly routes: readonly AnyRoute[];
  /** Turns the Authorization header into a principal, or throws 401. */
  authenticate(header: string | undefined): Promise<Principal>;
  readonly version: string;
  /** Largest JSON body accepted. */
  readonly bodyLimit?: number;
  readonly logger?: boolean;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/**
 * The HTTP API: every route validated by its zod schemas, authorised by role, errors as
 * problem+json, and `/api/v1/openapi.json` generated from the same routes.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 1 << 20, return503OnClosing: true });
  // An empty body with a JSON content type (DELETE and POST actions from many clients) is no
  // body, not a syntax error; auth then runs before any body complaint.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new SluiceError('validation', `body: not valid JSON (${(err as Error).message})`), undefined);
    }
  });
  app.setErrorHandler((err, request, reply) => {
    const fastifyErr = err as { statusCode?: number; code?: string; message: string };
    const problem =
      fastifyErr.statusCode === 413 ? toProblem(new SluiceError('too_large', fastifyErr.message), request.url)
        : fastifyErr.statusCode === 400 && !(err instanceof SluiceError) ? toProblem(new SluiceError('validation', `body: ${fastifyErr.message}`), request.url)
          : toProblem(err, request.url);
    if (problem.status >= 500) request.log.error(err);
    if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="sluice"');
    void reply.code(problem.status).type('application/problem+json').send(problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = toProblem(new SluiceError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`), request.url);
    void reply.code(404).type('application/problem+json').send(problem);
  });

  for (const r of options.routes) {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (request: FastifyRequest, reply) => {
        let principal: Principal = { role: 'admin', name: 'public' };
        if (r.access !== 'public') {
          principal = await options.authenticate(request.headers.authorization);
          if (!roleAllows(principal.role, r.access)) {
            throw new ForbiddenError(`${r.operationId} needs role ${r.access}; this token has ${principal.role}`);
          }
        }
        const params = parse(r.params, request.params, 'path');
        const query = parse(r.query, request.query, 'query');
        const body = parse(r.body, request.body, 'body');
        const result = await r.handler({ params, query, body, request, reply, principal });
        if (result === undefined) return reply;
        reply.code(r.status ?? 200);
        if (r.produces && r.produces !== 'application/json') return reply.type(r.produces).send(result);
        return reply.send(result);
      },
    });
  }
  const doc = openApiDocument(options.routes, { title: 'Sluice API', version: options.version });
  app.get('/api/v1/openapi.json', async () => doc);
  return app;
}
