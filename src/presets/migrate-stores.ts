import { createClickHouseServerWarehouse } from '../adapters/clickhouse/clickhouse-server-warehouse.ts';
import { ident } from '../runtime/query-user/query-user-sql.ts';
import { ensureQueryUser, type QueryUserOutcome } from '../runtime/query-user/ensure-query-user.ts';
import { loadPipelines } from '../runtime/pipeline-registry.ts';
import { PIPELINE_DATABASES } from '../runtime/safe-query/query-policy.ts';
import type { SluiceConfig } from './config.ts';
import { openMetadata, openWarehouse } from './open-services.ts';
import { queryUserOf } from './query-user.ts';

export interface MigrateReport {
  readonly metadata: string;
  readonly databases: readonly string[];
  /** Null without a ClickHouse server and `warehouse.queryUrl`. */
  readonly queryUser: (QueryUserOutcome & { readonly user: string }) | null;
}

/**
 * What `sluice migrate` does, each part idempotent: the metadata store's schema (as every
 * control plane does at start), the pipeline databases, and on a ClickHouse server the
 * query endpoint's read-only user. Opens the stores itself and closes them.
 */
export async function migrateStores(config: SluiceConfig): Promise<MigrateReport> {
  const registry = await loadPipelines(config.pipelines);
  const databases = [...new Set([...PIPELINE_DATABASES, ...registry.databases()])].sort();
  // Before any store is touched, so a bad queryUrl changes nothing.
  const spec = queryUserOf(config, databases);
  const metadata = await openMetadata(config);
  try {
    await metadata.migrate();
  } finally {
    await metadata.close();
  }
  const admin = await openWarehouse(config);
  try {
    for (const db of databases) await admin.command(`CREATE DATABASE IF NOT EXISTS ${ident(db)}`);
    const wh = config.warehouse;
    if (spec === null || wh.kind !== 'clickhouse' || wh.queryUrl === undefined) return { metadata: config.metadata.kind, databases, queryUser: null };
    const queryUrl = wh.queryUrl;
    const outcome = await ensureQueryUser(admin, () => createClickHouseServerWarehouse({ url: queryUrl, requestTimeoutMs: 30_000 }), spec);
    return { metadata: config.metadata.kind, databases, queryUser: { ...outcome, user: spec.user } };
  } finally {
    await admin.close();
  }
}
