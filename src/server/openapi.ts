import { z } from 'zod';
import { problemSchema } from './problem.ts';
import type { AnyRoute } from './route.ts';
import { sseContent, sseRefusals } from './sse/sse-openapi.ts';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): object[] {
  if (!schema) return [];
  const s = json(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: prop,
  }));
}

export interface DocumentOptions {
  /** Calls without a token are served too (local-dev mode). */
  readonly anonymous?: boolean;
}

/** The OpenAPI 3.1 document of the routes, from the very zod schemas that validate requests. */
export function openApiDocument(routes: readonly AnyRoute[], info: { title: string; version: string }, options: DocumentOptions = {}): object {
  const paths: Record<string, Record<string, object>> = {};
  const problem = { 'application/problem+json': { schema: json(problemSchema) } };
  // An empty requirement next to bearer says a token is optional (OpenAPI 3.1 §4.8.30).
  const security = options.anonymous ? [{ bearer: [] }, {}] : [{ bearer: [] }];
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const produces = r.produces ?? 'application/json';
    const content = produces === 'text/event-stream' ? sseContent(json(r.response)) : { [produces]: { schema: json(r.response) } };
    const responses: Record<string, object> = { [String(r.status ?? 200)]: { description: 'OK', content } };
    for (const status of r.alsoStatus ?? []) responses[String(status)] = { description: 'Reported with the same body', content };
    if (produces === 'text/event-stream') Object.assign(responses, sseRefusals(problem));
    responses.default = { description: 'Problem', content: problem };
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query'), ...parameters(r.headers, 'header')],
      responses,
    };
    if (r.access !== 'public') op.security = security;
    if (r.access !== 'public') op['x-required-role'] = r.access;
    // A body every field of which is optional may be left out: the route reads it as {}.
    if (r.body) op.requestBody = { required: !r.body.safeParse({}).success, content: { 'application/json': { schema: json(r.body) } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
