import { z } from 'zod';
import { problemSchema } from './problem.ts';
import type { AnyRoute } from './route.ts';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): object[] {
  if (!schema) return [];
  const s = json(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: prop,
  }));
}

/** The OpenAPI 3.1 document of the routes, from the very zod schemas that validate requests. */
export function openApiDocument(routes: readonly AnyRoute[], info: { title: string; version: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  const problem = { 'application/problem+json': { schema: json(problemSchema) } };
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        [String(r.status ?? 200)]: {
          description: 'OK',
          content: { [r.produces ?? 'application/json']: { schema: json(r.response) } },
        },
        default: { description: 'Problem', content: problem },
      },
    };
    if (r.access !== 'public') op.security = [{ bearer: [] }];
    if (r.access !== 'public') op['x-required-role'] = r.access;
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: json(r.body) } } };
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
