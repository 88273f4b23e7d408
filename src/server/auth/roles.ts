import { ForbiddenError, UnauthorizedError, ValidationError } from '../../core/errors.ts';
import type { TokenRole, TokenStore } from '../../ports/token-store.ts';
import { hashToken, parseBearer } from './tokens.ts';

export type Role = TokenRole;

/**
 * From least to most powerful; each includes the ones before it.
 * `view` reads everything but secrets; `edit` also creates, cancels and retries runs and
 * backfills; `admin` also manages tokens, schedules and retention.
 */
export const ROLES: readonly Role[] = ['view', 'edit', 'admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** `value` as a Role, or a ValidationError naming the allowed roles. */
export function parseRole(value: unknown, field = 'role'): Role {
  if (isRole(value)) return value;
  throw new ValidationError(`unknown role ${JSON.stringify(value)}; ${field} must be one of ${ROLES.join(', ')}`, field);
}

/** Whether a token with role `have` may do what needs role `need` (admin ⊃ edit ⊃ view). */
export function roleAllows(have: Role, need: Role): boolean {
  return isRole(have) && isRole(need) && ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface AuthenticatedToken {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
}

/** Throws ForbiddenError (403) unless `who` may do what needs role `need`. */
export function authorize(who: AuthenticatedToken, need: Role, action = 'this'): void {
  if (!roleAllows(who.role, need)) {
    throw new ForbiddenError(`${action} needs role ${need}; token ${who.name} has role ${who.role}`);
  }
}

export interface AuthenticateOptions {
  readonly now?: () => Date;
  /** lastUsedAt is written at most this often per token, so reads stay reads (default 60 s). */
  readonly touchEveryMs?: number;
}

/**
 * The token behind an `Authorization` header. Throws UnauthorizedError (401) with reason
 * `missing`, `malformed`, or `invalid` (unknown or revoked, told apart on purpose by
 * neither message nor reason).
 */
export async function authenticate(
  header: string | undefined,
  store: Pick<TokenStore, 'findByHash' | 'touch'>,
  options: AuthenticateOptions = {},
): Promise<AuthenticatedToken> {
  // No constant-time comparison is needed here: the secret is hashed before the lookup,
  // so the database only ever compares hashes, and how long that takes says nothing
  // an attacker can use to learn the secret (they cannot choose a hash's prefix).
  const record = await store.findByHash(hashToken(parseBearer(header)));
  if (record === undefined || record.revokedAt !== null) {
    throw new UnauthorizedError('invalid', 'invalid token: unknown or revoked');
  }
  const now = (options.now ?? (() => new Date()))();
  const every = options.touchEveryMs ?? 60_000;
  if (record.lastUsedAt === null || now.getTime() - Date.parse(record.lastUsedAt) >= every) {
    await store.touch(record.id, now.toISOString());
  }
  return { tokenId: record.id, name: record.name, role: record.role };
}
