/** Values for `{name:Type}` placeholders; the engine binds them, never string concatenation. */
export type QueryParams = Record<string, unknown>;

export interface QueryOptions {
  /** Abandons the request (and, where the engine can, the query) when it fires. */
  readonly signal?: AbortSignal;
}

/**
 * The analytical store (ClickHouse SQL). The embedded adapter runs chDB in-process; the
 * server adapter talks HTTP to ClickHouse. Both speak the same SQL.
 */
export interface Warehouse {
  /** 'chdb' or 'clickhouse', for messages and capability checks. */
  readonly kind: string;
  /** DDL or DML without a result. */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** A SELECT; rows come back as plain objects (64-bit integers may arrive as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams, options?: QueryOptions): Promise<T[]>;
  /**
   * Runs one `EXPLAIN …` statement and returns its output lines as the engine prints them
   * (`EXPLAIN AST` / `EXPLAIN QUERY TREE`: one node per line, indented by depth). The
   * query endpoint decides what an untrusted statement is from this, never from its text.
   */
  explain(statement: string, params?: QueryParams, options?: QueryOptions): Promise<string[]>;
  /** Small inserts of row objects. */
  insertRows(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * Bulk insert of TabSeparated text, consumed in bounded chunks so memory stays flat
   * however large the source. Returns the number of rows written.
   */
  insertTsv(table: string, columns: readonly string[], body: AsyncIterable<string>): Promise<number>;
  /**
   * One INSERT of a bounded TabSeparated body (a stream's batch), as a single statement.
   * With `dedupToken`, the engine drops a repeat of an insert it has seen with that token
   * (the table needs `non_replicated_deduplication_window` > 0, or a Replicated engine), so
   * a batch written again after a crash is not written twice.
   */
  insertBatch(table: string, columns: readonly string[], body: string, options?: { dedupToken?: string }): Promise<void>;
  close(): Promise<void>;
}
