/**
 * The slice of a PostgreSQL client the metadata store needs. PGlite and `pg` each get a
 * few lines of glue to fit it, so the SQL is written once for both.
 */
export interface SqlExecutor {
  /** One statement; values are bound as $1, $2, ... and never spliced into the text. */
  query<T>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  /** Commits when `fn` resolves, rolls back when it throws. Not nestable. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases what the glue created; an injected connection is left open. */
  close(): Promise<void>;
}

/** The constraint a statement broke when it inserted a duplicate key (SQLSTATE 23505), else null. */
export function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  if (e?.code !== '23505') return null;
  return typeof e.constraint === 'string' ? e.constraint : 'unique key';
}
