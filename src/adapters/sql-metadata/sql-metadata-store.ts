import type { EventRecord, MetadataStore, WriteBatch } from '../../ports/metadata-store.ts';
import { applyMigrations } from './migrations.ts';
import type { SqlClient } from './sql-client.ts';
import { SqlAssetCatalog } from './sql-asset-catalog.ts';
import { SqlGaugeStore } from './sql-gauge-store.ts';
import { SqlRunHistory } from './sql-run-history.ts';
import { SqlScheduleStore } from './sql-schedule-store.ts';
import { SqlTokenStore } from './sql-token-store.ts';
import { writeBatch } from './sql-write-batch.ts';

/** The MetadataStore on any PostgreSQL dialect speaker (PGlite, `pg`): one client shared by its parts. */
export class SqlMetadataStore implements MetadataStore {
  readonly #db: SqlClient;
  readonly runs: SqlRunHistory;
  readonly assets: SqlAssetCatalog;
  readonly gauges: SqlGaugeStore;
  readonly tokens: SqlTokenStore;
  readonly schedules: SqlScheduleStore;

  constructor(db: SqlClient) {
    this.#db = db;
    this.runs = new SqlRunHistory(db);
    this.assets = new SqlAssetCatalog(db);
    this.gauges = new SqlGaugeStore(db);
    this.tokens = new SqlTokenStore(db);
    this.schedules = new SqlScheduleStore(db);
  }

  async migrate(): Promise<void> {
    await applyMigrations(this.#db);
  }

  write(batch: WriteBatch): Promise<EventRecord[]> {
    return writeBatch(this.#db, batch);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
