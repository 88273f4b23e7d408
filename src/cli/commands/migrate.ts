import type { Command } from 'commander';
import { ConflictError } from '../../core/errors.ts';
import { loadConfig } from '../../presets/config.ts';
import { migrateStores, type MigrateReport } from '../../presets/migrate-stores.ts';
import { print, type GlobalOptions } from '../context.ts';
import { readServerFile } from '../server-file.ts';
import { claimStores } from '../store-lock.ts';

function printReport(r: MigrateReport): void {
  print(`metadata (${r.metadata}): schema up to date`);
  print(`warehouse databases: ${r.databases.join(', ')}`);
  const q = r.queryUser;
  if (q === null) return;
  if (q.problems.length === 0) {
    print(q.via === 'sql'
      ? `query user ${q.user}: created or updated (readonly = 2, capped limits, SELECT on the pipeline databases only)`
      : `query user ${q.user}: declared in the server's users.xml (no SQL-managed access storage: ${q.sqlRefusal}); its grants and limits are as required`);
    return;
  }
  process.stderr.write(`query user ${q.user} is not as the query endpoint needs:\n${q.problems.map((p) => `  - ${p}\n`).join('')}`);
  if (q.usersXml !== null) {
    process.stderr.write(`The server keeps users in users.xml only (${q.sqlRefusal}), so SQL cannot create or change ${q.user}. `
      + `Add this to its users.xml (or a file in users.d/), restart or wait for the reload, and run sluice migrate again:\n\n${q.usersXml}\n`);
  }
  throw new ConflictError(`query user ${q.user}: ${q.problems.length} problem(s), see above`);
}

export function registerMigrate(program: Command, globals: () => GlobalOptions): void {
  program
    .command('migrate')
    .description('create or update the metadata schema, the warehouse databases and, on a ClickHouse server, the query endpoint\'s read-only user')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }) => {
      const g = globals();
      const config = loadConfig({ env: process.env, cwd: process.cwd(), home: g.home, pipelines: g.pipelines, logLevel: g.verbose ? 'debug' : undefined });
      const owner = readServerFile(config.home);
      // PGlite and chDB open their files in one process only; a server migrates them at its start.
      if (owner && (config.metadata.kind === 'pglite' || config.warehouse.kind === 'chdb')) {
        throw new ConflictError(`a server (pid ${owner.pid}) owns ${config.home}; it migrated the embedded stores when it started`);
      }
      const release = claimStores(config, 'sluice migrate');
      let report: MigrateReport;
      try {
        report = await migrateStores(config);
      } finally {
        release();
      }
      if (o.json) {
        print(JSON.stringify(report));
        if (report.queryUser && report.queryUser.problems.length > 0) process.exitCode = 2;
        return;
      }
      printReport(report);
      const wh = config.warehouse;
      if (wh.kind === 'clickhouse' && wh.queryUrl === undefined) {
        print('no warehouse.queryUrl (SLUICE_WAREHOUSE_QUERY_URL): the query endpoint connects as the pipelines\' user, guarded by its parser checks alone');
      }
    });
}
