import type { AssetCatalog, AssetHistory, AssetHistoryFilter, MaterializationRecord } from '../../ports/metadata-store.ts';
import type { SqlExecutor } from './sql-client.ts';
import { limitOf, params, where } from './sql-query-parts.ts';
import { toCheckResult, toMaterialization, type CheckResultRow, type MaterializationRow } from './rows.ts';

/** Materializations and check results on any PostgreSQL dialect speaker. */
export class SqlAssetCatalog implements AssetCatalog {
  readonly #db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async history(filter: AssetHistoryFilter = {}): Promise<AssetHistory> {
    const p = params();
    const clauses: string[] = [];
    if (filter.asset !== undefined) clauses.push(`asset = ${p.bind(filter.asset)}`);
    if (filter.partition !== undefined) clauses.push(`partition = ${p.bind(filter.partition)}`);
    if (filter.runId !== undefined) clauses.push(`run_id = ${p.bind(filter.runId)}`);
    const limit = limitOf(filter.limit, null);
    const tail = `${where(clauses)} ORDER BY ts DESC, id DESC${limit === null ? '' : ` LIMIT ${p.bind(limit)}`}`;
    const materializations = await this.#db.query<MaterializationRow>(`SELECT * FROM materializations ${tail}`, p.values);
    const checks = await this.#db.query<CheckResultRow>(`SELECT * FROM check_results ${tail}`, p.values);
    return {
      materializations: materializations.rows.map(toMaterialization),
      checks: checks.rows.map(toCheckResult),
    };
  }

  async latest(assets: readonly string[]): Promise<MaterializationRecord[]> {
    if (assets.length === 0) return [];
    const { rows } = await this.#db.query<MaterializationRow>(
      `SELECT DISTINCT ON (asset) * FROM materializations WHERE asset = ANY($1::text[]) ORDER BY asset, ts DESC, id DESC`,
      [[...assets]],
    );
    return rows.map(toMaterialization);
  }
}
