import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { QueryOptions, QueryParams, Warehouse } from '../../ports/warehouse.ts';
import { readAhead } from './read-ahead.ts';
import { warehouseError } from './warehouse-error.ts';

/** How a backend bulk-loads TabSeparated text; the default goes through the client. */
export type TsvInserter = (table: string, columns: readonly string[], body: AsyncIterable<string>) => Promise<number>;
/** One TabSeparated insert of a whole body, with the statement's settings (the dedup token among them). */
export type BatchInserter = (table: string, columns: readonly string[], body: string, settings: Record<string, string | number>) => Promise<void>;

// Numbers rather than quoted strings for 64-bit integers, so a count reads the same on
// chDB and on a ClickHouse server.
const BASE_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

/** Engine settings sent with every statement of this connection (memory bounds, spilling). */
export type EngineSettings = Readonly<Record<string, string | number>>;

/**
 * Bounds one statement's memory and lets big sorts, group-bys and joins spill to disk
 * before they reach it, so a pipeline's SQL steps stay flat as their input grows. Each
 * spills at an eighth: one statement often holds a group-by feeding joins feeding an
 * insert, and a hash table at its threshold allocates twice its size to grow.
 * Joins use grace hash: `auto` no longer falls back to a spilling join on this engine
 * (26.x), it fails with SET_SIZE_LIMIT_EXCEEDED once the right side passes
 * max_bytes_in_join. Kinds grace hash cannot run (SEMI, ANTI, ASOF) use the in-memory
 * hash join, still bounded by max_bytes_in_join. IN (subquery) sets never spill: pipeline
 * SQL over fact-sized data joins instead.
 */
export function memorySettings(maxMemoryBytes: number): EngineSettings {
  const spill = Math.floor(maxMemoryBytes / 8);
  return {
    max_memory_usage: maxMemoryBytes,
    max_bytes_before_external_group_by: spill,
    max_bytes_before_external_sort: spill,
    max_bytes_in_join: spill,
    join_algorithm: 'grace_hash,hash',
    // INSERT … SELECT gathers up to 256 MiB before writing a part; a small bound would be
    // spent on that buffer alone.
    min_insert_block_size_bytes: Math.min(256 * 2 ** 20, Math.floor(maxMemoryBytes / 16)),
  };
}

/**
 * The Warehouse port over `@clickhouse/client`. The same class serves a ClickHouse server
 * (HTTP) and chDB (in-process connection); only the client and the bulk inserter differ.
 */
export class ClickHouseWarehouse implements Warehouse {
  readonly kind: string;
  readonly #client: ClickHouseClient;
  readonly #ownsClient: boolean;
  readonly #insertTsv: TsvInserter;
  readonly #insertBody: BatchInserter;
  readonly #settings: Record<string, string | number>;

  constructor(options: { kind: string; client: ClickHouseClient; ownsClient: boolean; insertTsv?: TsvInserter; insertBatch?: BatchInserter; settings?: EngineSettings }) {
    this.kind = options.kind;
    this.#settings = { ...BASE_SETTINGS, ...options.settings };
    this.#client = options.client;
    this.#ownsClient = options.ownsClient;
    this.#insertTsv = options.insertTsv ?? ((t, c, b) => this.#clientInsertTsv(t, c, b));
    this.#insertBody = options.insertBatch ?? ((table, columns, body, settings) => this.#clientInsertBatch(table, columns, body, settings));
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.#client.command({ query: sql, query_params: params, clickhouse_settings: this.#settings });
    } catch (err) {
      throw warehouseError(err, sql);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams, options?: QueryOptions): Promise<T[]> {
    try {
      const rs = await this.#client.query({
        query: sql, query_params: params, format: 'JSONEachRow', clickhouse_settings: this.#settings, abort_signal: options?.signal,
      });
      return await rs.json<T>();
    } catch (err) {
      throw warehouseError(err, sql);
    }
  }

  async explain(statement: string, params?: QueryParams, options?: QueryOptions): Promise<string[]> {
    try {
      // `query()` would append FORMAT, which the explained statement absorbs as its own;
      // `default_format` sets the output of the EXPLAIN itself on chDB and on a server.
      const r = await this.#client.exec({
        query: statement, query_params: params, abort_signal: options?.signal,
        clickhouse_settings: { default_format: 'JSONEachRow' } as Record<string, string>,
      });
      let text = '';
      for await (const chunk of r.stream) text += String(chunk);
      return text.split('\n').filter((l) => l.length > 0).map((l) => String((JSON.parse(l) as { explain: unknown }).explain));
    } catch (err) {
      throw warehouseError(err, statement);
    }
  }

  async insertRows(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.#client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
    } catch (err) {
      throw warehouseError(err, `INSERT INTO ${table} FORMAT JSONEachRow`);
    }
  }

  async insertTsv(table: string, columns: readonly string[], body: AsyncIterable<string>): Promise<number> {
    try {
      return await this.#insertTsv(table, columns, body);
    } catch (err) {
      throw warehouseError(err, `INSERT INTO ${table} FORMAT TabSeparated`);
    }
  }

  async insertBatch(table: string, columns: readonly string[], body: string, options: { dedupToken?: string } = {}): Promise<void> {
    const dedup: Record<string, string | number> = options.dedupToken === undefined ? {} : { insert_deduplication_token: options.dedupToken, insert_deduplicate: 1 };
    try {
      await this.#insertBody(table, columns, body, { ...this.#settings, ...dedup });
    } catch (err) {
      throw warehouseError(err, `INSERT INTO ${table} FORMAT TabSeparated`);
    }
  }

  async #clientInsertBatch(table: string, columns: readonly string[], body: string, settings: Record<string, string | number>): Promise<void> {
    await this.#client.insert({
      table,
      columns: [...columns] as [string, ...string[]],
      values: Readable.from([body], { objectMode: false }),
      format: 'TabSeparated',
      clickhouse_settings: settings,
    });
  }

  async #clientInsertTsv(table: string, columns: readonly string[], body: AsyncIterable<string>): Promise<number> {
    const r = await this.#client.insert({
      table,
      columns: [...columns] as [string, ...string[]],
      values: Readable.from(readAhead(body), { objectMode: false }),
      format: 'TabSeparated',
    });
    return Number(r.summary?.written_rows ?? 0);
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.close();
  }
}
