import { ConflictError } from '../../core/errors.ts';
import type { NewToken, TokenRecord, TokenRole, TokenStore } from '../../ports/token-store.ts';
import { uniqueViolation, type SqlExecutor } from './sql-client.ts';

const ACTIVE_NAME_INDEX = 'api_tokens_active_name_idx';

// Never `SELECT *`: the hash column must not leave the store.
const COLUMNS = 'id, name, role, created_at, last_used_at, revoked_at';

type Ts = Date | string;

interface TokenRow {
  id: string;
  name: string;
  role: string;
  created_at: Ts;
  last_used_at: Ts | null;
  revoked_at: Ts | null;
}

const iso = (v: Ts): string => (v instanceof Date ? v : new Date(v)).toISOString();
const isoOrNull = (v: Ts | null): string | null => (v === null ? null : iso(v));

const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role as TokenRole,
  createdAt: iso(r.created_at),
  lastUsedAt: isoOrNull(r.last_used_at),
  revokedAt: isoOrNull(r.revoked_at),
});

/** The TokenStore on any PostgreSQL dialect speaker; shares the metadata store's client. */
export class SqlTokenStore implements TokenStore {
  readonly #db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async create(t: NewToken): Promise<TokenRecord> {
    try {
      const { rows } = await this.#db.query<TokenRow>(
        `INSERT INTO api_tokens (id, name, role, hash, created_at)
         VALUES ($1, $2, $3, $4, date_trunc('milliseconds', COALESCE($5::timestamptz, now())))
         RETURNING ${COLUMNS}`,
        [t.id, t.name, t.role, t.hash, t.createdAt ?? null],
      );
      return toToken(rows[0]!);
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === null) throw err;
      if (constraint === ACTIVE_NAME_INDEX) {
        throw new ConflictError(`an active token named ${JSON.stringify(t.name)} already exists; revoke it or choose another name`);
      }
      throw new ConflictError(`a token with this id or secret already exists (${constraint})`);
    }
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return rows.length === 0 ? undefined : toToken(rows[0]!);
  }

  async list(): Promise<TokenRecord[]> {
    const { rows } = await this.#db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`);
    return rows.map(toToken);
  }

  async revoke(idOrName: string): Promise<boolean> {
    // One row at most, an id match before a name match, so a name can never revoke a
    // different token whose id happens to equal it.
    const { rows } = await this.#db.query<{ id: string }>(
      `UPDATE api_tokens SET revoked_at = now()
       WHERE id = (
         SELECT id FROM api_tokens
         WHERE revoked_at IS NULL AND (id = $1 OR name = $1)
         ORDER BY (id = $1) DESC
         LIMIT 1)
       AND revoked_at IS NULL
       RETURNING id`,
      [idOrName],
    );
    return rows.length > 0;
  }

  async touch(id: string, at?: string): Promise<void> {
    await this.#db.query(
      `UPDATE api_tokens
       SET last_used_at = GREATEST(last_used_at, COALESCE($2::timestamptz, now()))
       WHERE id = $1`,
      [id, at ?? null],
    );
  }
}
