import { FencedError } from '../../core/errors.ts';
import type { EventRecord, MetadataStore, WriteBatch } from '../../ports/metadata-store.ts';
import { applyMigrations } from './migrations.ts';
import type { SqlClient } from './sql-client.ts';
import { SqlAssetCatalog } from './sql-asset-catalog.ts';
import { SqlGaugeStore } from './sql-gauge-store.ts';
import { SqlRunHistory } from './sql-run-history.ts';
import { SqlScheduleStore } from './sql-schedule-store.ts';
import { SqlStreamOffsets } from './sql-stream-offsets.ts';
import { SqlTokenStore } from './sql-token-store.ts';
import { writeBatch } from './sql-write-batch.ts';

/** The MetadataStore on any PostgreSQL dialect speaker (PGlite, `pg`): one client shared by its parts. */
export class SqlMetadataStore implements MetadataStore {
  readonly #db: SqlClient;
  readonly runs: SqlRunHistory;
  readonly assets: SqlAssetCatalog;
  readonly gauges: SqlGaugeStore;
  readonly streams: SqlStreamOffsets;
  readonly tokens: SqlTokenStore;
  readonly schedules: SqlScheduleStore;
  #epoch: number | null = null;
  #onFenced: ((err: Error) => void) | null = null;

  constructor(db: SqlClient) {
    this.#db = db;
    this.runs = new SqlRunHistory(db);
    this.assets = new SqlAssetCatalog(db);
    this.gauges = new SqlGaugeStore(db);
    this.streams = new SqlStreamOffsets(db);
    this.tokens = new SqlTokenStore(db);
    this.schedules = new SqlScheduleStore(db);
  }

  async migrate(): Promise<void> {
    await applyMigrations(this.#db);
  }

  async claimLeadership(onFenced: (err: Error) => void): Promise<number> {
    const { rows } = await this.#db.query<{ epoch: string }>('UPDATE leader_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch');
    this.#epoch = Number(rows[0]?.epoch);
    this.#onFenced = onFenced;
    return this.#epoch;
  }

  async write(batch: WriteBatch): Promise<EventRecord[]> {
    try {
      return await writeBatch(this.#db, batch, this.#epoch);
    } catch (err) {
      if (err instanceof FencedError) this.#onFenced?.(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
