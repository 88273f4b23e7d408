import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../core/errors.ts';
import type { TokenRecord, TokenRole, TokenStore } from '../../ports/token-store.ts';

/** A secret: `slc_` and 32 random bytes in base64url (43 characters, no padding). */
export const TOKEN_PATTERN = /^slc_[A-Za-z0-9_-]{43}$/;
/** A token's public id, safe to print and log. */
export const TOKEN_ID_PATTERN = /^tok_[0-9a-f]{16}$/;
/** Names are typed on command lines and shown in tables, so keep them plain. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A new secret. The prefix makes a leaked token easy to recognise (secret scanners,
 * logs); 256 random bits make guessing hopeless.
 */
export function generateToken(): string {
  return `slc_${randomBytes(32).toString('base64url')}`;
}

export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`;
}

/**
 * SHA-256 of the secret, as 64 hex characters. A plain fast hash is right here: the
 * secrets carry 256 bits of randomness, so there is no dictionary to try and no
 * brute force to slow down, which is all a salted slow hash (bcrypt, scrypt, argon2)
 * would buy. Being deterministic, it lets the store find a token by an indexed lookup
 * of its hash, which a salted hash would not, and it keeps each request cheap.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Compares two strings in time that depends only on their length, not their content.
 * Use it whenever a presented secret is compared with a known one (a configured
 * bootstrap token, a webhook signature); a plain `===` stops at the first differing
 * character and so leaks, over many tries, how much of a guess was right. Looking a
 * token up by its hash (see authenticate) needs no such care.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// RFC 7235: the scheme is case-insensitive and separated from its credentials by one or
// more spaces; RFC 6750 limits a bearer token to the token68 alphabet.
const BEARER = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * The token in an `Authorization: Bearer <token>` header. Leading and trailing blanks are
 * ignored (HTTP strips them too). Throws UnauthorizedError with reason `missing` when
 * there is no header or it is blank, `malformed` for any other scheme, no token, a token
 * with inner spaces, or one that is not a Sluice token.
 */
export function parseBearer(header: string | undefined): string {
  const value = header?.trim() ?? '';
  if (value === '') throw new UnauthorizedError('missing', 'missing Authorization header; send "Authorization: Bearer <token>"');
  const m = BEARER.exec(value);
  if (!m) throw new UnauthorizedError('malformed', 'malformed Authorization header; expected "Bearer <token>"');
  if (m[1]!.toLowerCase() !== 'bearer') {
    throw new UnauthorizedError('malformed', `unsupported authorization scheme ${JSON.stringify(m[1])}; expected "Bearer <token>"`);
  }
  if (!TOKEN_PATTERN.test(m[2]!)) {
    throw new UnauthorizedError('malformed', 'malformed bearer token; Sluice tokens look like slc_ followed by 43 characters');
  }
  return m[2]!;
}

/**
 * The `WWW-Authenticate` value for a 401 (RFC 6750 §3): no error code when no
 * credentials were sent, `invalid_request` for a malformed header, `invalid_token` else.
 */
export function challenge(err: UnauthorizedError): string {
  const base = 'Bearer realm="sluice"';
  if (err.reason === 'missing') return base;
  return `${base}, error="${err.reason === 'malformed' ? 'invalid_request' : 'invalid_token'}"`;
}

export interface IssuedToken {
  readonly record: TokenRecord;
  /** The secret; shown once, never stored. */
  readonly token: string;
}

/**
 * Creates a token with a new secret and stores only its hash. Without a name one is made
 * from the role and id. Throws ValidationError for a bad name, ConflictError (from the
 * store) when an active token already has the name.
 */
export async function issueToken(
  store: Pick<TokenStore, 'create'>,
  options: { readonly role: TokenRole; readonly name?: string; readonly createdAt?: string },
): Promise<IssuedToken> {
  const id = newTokenId();
  const name = options.name ?? `${options.role}-${id.slice(4, 12)}`;
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `token name ${JSON.stringify(name)} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      'name',
    );
  }
  // An id-shaped name would make `revoke <id-or-name>` ambiguous.
  if (TOKEN_ID_PATTERN.test(name)) throw new ValidationError(`token name ${JSON.stringify(name)} looks like a token id`, 'name');
  const token = generateToken();
  const record = await store.create({ id, name, role: options.role, hash: hashToken(token), createdAt: options.createdAt });
  return { record, token };
}
