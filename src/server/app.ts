import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ForbiddenError, SluiceError, ValidationError } from '../core/errors.ts';
import type { Logger } from '../runtime/services.ts';
import { roleAllows, type Role } from './auth/roles.ts';
import { registerMethodNotAllowed } from './method-not-allowed.ts';
import { openApiDocument } from './openapi.ts';
import { serveUi } from './ui-routes.ts';
import { maxParamLength } from './param-limits.ts';
import { fromZod } from './problem.ts';
import { refuseUnsafeInput } from './request-guards.ts';
import type { AnyRoute } from './route.ts';
import { sendProblem } from './send-problem.ts';

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
  /** Where failed requests (500) are logged, with their request id. */
  readonly logger?: Logger;
  /** Requests without a token are served (local-dev mode); the document says so. */
  readonly anonymous?: boolean;
  /** Runs first on every request; throws to refuse it (local-dev mode's Host and Origin checks). */
  guard?(request: FastifyRequest): void;
  /** The built web UI, served at / (see serveUi). */
  readonly uiDir?: string;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  refuseUnsafeInput(value, where);
  // No body at all reads as {}; a JSON `null` is a body, and not an object.
  const r = schema.safeParse(value === undefined ? {} : value);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/**
 * The HTTP API: every route validated by its zod schemas, authorised by role, errors as
 * problem+json, and `/api/v1/openapi.json` generated from the same routes.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { logger } = options;
  const paramLimit = maxParamLength(options.routes);
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    return503OnClosing: true,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: paramLimit },
    // Errors of the router itself (a parameter longer than any schema allows, a broken
    // percent-encoding) are problems like every other.
    frameworkErrors: (err, request, reply) => {
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path parameter is longer than ${paramLimit} characters` : 'not a valid URL path';
      return sendProblem(request, reply, new ValidationError(`path: ${message}`, 'path'), logger);
    },
  });
  // JSON is the only body the API reads; anything else is a 415, not a string to validate.
  // An empty body with a JSON content type (DELETE and POST actions from many clients) is no
  // body, not a syntax error; auth then runs before any body complaint.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new ValidationError(`body: not valid JSON (${(err as Error).message})`, 'body'), undefined);
    }
  });
  if (options.guard) {
    const guard = options.guard;
    app.addHook('onRequest', async (request) => guard(request));
  }
  app.setErrorHandler((err, request, reply) => sendProblem(request, reply, err, logger));
  const page = options.uiDir ? serveUi(app, options.uiDir) : null;
  app.setNotFoundHandler((request, reply) => {
    if (page?.(request, reply)) return reply;
    return sendProblem(request, reply, new SluiceError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  const declared = new Map<string, string[]>();
  for (const r of options.routes) {
    (declared.get(r.path) ?? declared.set(r.path, []).get(r.path)!).push(r.method);
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
        const headers = r.headers?.safeParse(request.headers);
        if (headers && !headers.success) throw fromZod(headers.error, 'header');
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
  const doc = openApiDocument(options.routes, { title: 'Sluice API', version: options.version }, { anonymous: options.anonymous ?? false });
  app.get('/api/v1/openapi.json', async () => doc);
  declared.set('/api/v1/openapi.json', ['GET']);
  registerMethodNotAllowed(app, declared);
  return app;
}
