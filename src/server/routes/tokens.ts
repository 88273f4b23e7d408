import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import { ROLES } from '../auth/roles.ts';
import { issueToken, TOKEN_NAME_PATTERN } from '../auth/tokens.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

const tokenSchema = z.object({
  id: z.string(), name: z.string(), role: z.enum(ROLES as ['view', 'edit', 'admin']), createdAt: z.string(),
  lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable(),
});

export function tokenRoutes(ctx: ServerContext): AnyRoute[] {
  const tokens = ctx.services.metadata.tokens;
  return [
    route({
      method: 'GET', path: '/api/v1/me', operationId: 'whoAmI', summary: 'Who the caller is: the token\'s name and role (the UI shows only what the role allows)',
      tag: 'admin', access: 'view',
      response: z.object({ name: z.string(), role: z.enum(ROLES as ['view', 'edit', 'admin']) }),
      handler: async ({ principal }) => ({ name: principal.name, role: principal.role }),
    }),
    route({
      method: 'POST', path: '/api/v1/tokens', operationId: 'createToken', summary: 'Create an API token; the secret is in this response only',
      tag: 'admin', access: 'admin', status: 201,
      body: z.object({ role: z.enum(ROLES as ['view', 'edit', 'admin']), name: z.string().regex(TOKEN_NAME_PATTERN, "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit").optional() }).strict(),
      response: tokenSchema.extend({ token: z.string() }),
      handler: async ({ body }) => {
        const { record, token } = await issueToken(tokens, body);
        return { ...record, token };
      },
    }),
    route({
      method: 'GET', path: '/api/v1/tokens', operationId: 'listTokens', summary: 'List API tokens (never their secrets)', tag: 'admin', access: 'admin',
      response: z.object({ items: z.array(tokenSchema) }),
      handler: async () => ({ items: await tokens.list() }),
    }),
    route({
      method: 'DELETE', path: '/api/v1/tokens/:idOrName', operationId: 'revokeToken', summary: 'Revoke a token by id or name', tag: 'admin', access: 'admin',
      params: z.object({ idOrName: z.string().min(1).max(64) }),
      response: z.object({ revoked: z.literal(true) }),
      handler: async ({ params }) => {
        if (!(await tokens.revoke(params.idOrName))) throw new NotFoundError('active token', params.idOrName);
        return { revoked: true as const };
      },
    }),
  ];
}
