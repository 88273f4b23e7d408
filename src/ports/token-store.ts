/** What a token may do; each role includes the ones before it (admin ⊃ edit ⊃ view). */
export type TokenRole = 'view' | 'edit' | 'admin';

/**
 * An API token as the store shows it. The secret is never stored and its hash is never
 * returned, so nothing read from the store can be replayed as a credential.
 * Timestamps are ISO-8601 strings in UTC.
 */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: TokenRole;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface NewToken {
  readonly id: string;
  /** Unique among tokens that are not revoked, so a revoked name can be reused. */
  readonly name: string;
  readonly role: TokenRole;
  /** A one-way hash of the secret (see src/server/auth/tokens.ts); the store never sees the secret. */
  readonly hash: string;
  /** Defaults to the store's clock. */
  readonly createdAt?: string;
}

/** Where API tokens live: hashed, with a role, revocable. */
export interface TokenStore {
  /** Throws a ConflictError (code 'conflict') when an active token already has this name. */
  create(token: NewToken): Promise<TokenRecord>;
  /** The active token with this hash; undefined when there is none or it was revoked. */
  findByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Every token, revoked ones included (with `revokedAt`), oldest first. */
  list(): Promise<TokenRecord[]>;
  /**
   * Revokes the active token with this id, or else the active token with this name.
   * Returns false when no active token matched (unknown, or already revoked).
   */
  revoke(idOrName: string): Promise<boolean>;
  /** Records a use; never moves lastUsedAt backwards. `at` defaults to the store's clock. */
  touch(id: string, at?: string): Promise<void>;
}
