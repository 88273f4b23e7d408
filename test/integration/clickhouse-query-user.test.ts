import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createClickHouseServerWarehouse } from '../../src/adapters/clickhouse/clickhouse-server-warehouse.ts';
import type { ClickHouseWarehouse } from '../../src/adapters/clickhouse/clickhouse-warehouse.ts';
import { QueryLimitError, QueryRefusedError, QuerySqlError } from '../../src/core/query-errors.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { openRuntime, type Runtime } from '../../src/presets/runtime.ts';
import { queryUserOf } from '../../src/presets/query-user.ts';
import { engineErrorType } from '../../src/runtime/query-user/engine-error-type.ts';
import { ensureQueryUser } from '../../src/runtime/query-user/ensure-query-user.ts';
import { queryUserStatements } from '../../src/runtime/query-user/query-user-sql.ts';
import { SafeQuery } from '../../src/runtime/safe-query/safe-query.ts';
import { service } from '../helpers/services.ts';

// A real ClickHouse server (scripts/clickhouse.sh: clickhouse-local from libchdb.so) whose
// users.xml declares the query user as `sluice migrate` would create it. Its password is the
// script's fixed test password, guarding a throwaway server on loopback.
const QUERY_USER = 'sluice_query';
const QUERY_PASSWORD = 'sluice-query-test';
const root = fileURLToPath(new URL('../../', import.meta.url));
const CSV = join(root, 'data/online-retail/2010-12-01.csv');
const TITLE = 'the query endpoint\'s read-only user on a real ClickHouse server';

const withUser = (url: string, user: string, password: string): string => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString().replace(/\/$/, '');
};

interface CliResult { code: number; stdout: string; stderr: string }

/** `sluice …` in a child process, on its own state directory, with nothing from the shell's environment. */
function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'src/cli/main.ts'), ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The engine's error type of a statement the user runs, or 'ok'. */
async function outcome(wh: ClickHouseWarehouse, sql: string): Promise<string> {
  try {
    await (/^\s*(SELECT|SHOW|WITH)\b/i.test(sql) ? wh.query(sql) : wh.command(sql));
    return 'ok';
  } catch (err) {
    return engineErrorType(err) || String(err);
  }
}

let url: string | undefined;
let failure: unknown;
try {
  url = await service('clickhouse');
} catch (err) {
  failure = err;
}
if (failure !== undefined) {
  test(TITLE, () => {
    throw failure;
  });
} else if (url === undefined) {
  test(TITLE, (t) => t.skip('ClickHouse is not usable here (run npm install and scripts/clickhouse.sh install)'));
} else {
  register(url);
}

function register(adminUrl: string): void {
  const queryUrl = withUser(adminUrl, QUERY_USER, QUERY_PASSWORD);
  const id = `${process.pid}_${Date.now().toString(36)}`;
  const table = `marts.cqu_sales_${id}`;
  const secretDb = `cqu_secret_${id}`;
  // A state directory per process that opens one: PGlite allows one process per directory.
  const home = mkdtempSync(join(tmpdir(), 'sluice-cqu-'));
  const envIn = (dir: string) => ({ SLUICE_HOME: join(home, dir), SLUICE_WAREHOUSE_URL: adminUrl, SLUICE_WAREHOUSE_QUERY_URL: queryUrl });
  const env = envIn('migrate');
  let admin: ClickHouseClient;
  let asUser: ClickHouseWarehouse;
  let expected: { n: number; qty: number };

  before(async () => {
    admin = createClient({ url: adminUrl, log: { level: ClickHouseLogLevel.OFF } });
    asUser = createClickHouseServerWarehouse({ url: queryUrl, requestTimeoutMs: 20_000 });
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS marts' });
    await admin.command({
      query: `CREATE TABLE ${table} (InvoiceNo String, StockCode String, Description String, Quantity Int32, InvoiceDate DateTime,
        UnitPrice Float64, CustomerID Nullable(Float64), Country String) ENGINE = MergeTree ORDER BY (InvoiceNo, StockCode)`,
    });
    // The engine parses the real CSV itself, as an admin's load would.
    await admin.insert({ table, values: createReadStream(CSV), format: 'CSVWithNames' });
    const rs = await admin.query({ query: `SELECT count() AS n, sum(Quantity) AS qty FROM ${table}`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
    [expected] = await rs.json<{ n: number; qty: number }>();
    await admin.command({ query: `CREATE DATABASE ${secretDb}` });
    await admin.command({ query: `CREATE TABLE ${secretDb}.tokens (secret String) ENGINE = MergeTree ORDER BY secret` });
    await admin.command({ query: `INSERT INTO ${secretDb}.tokens VALUES ('hunter2')` });
  });
  after(async () => {
    await asUser?.close();
    for (const q of [`DROP TABLE IF EXISTS ${table}`, `DROP DATABASE IF EXISTS ${secretDb}`, 'DROP DATABASE IF EXISTS gate']) await admin?.command({ query: q });
    await admin?.close();
    rmSync(home, { recursive: true, force: true });
  });

  describe(TITLE, { timeout: 180_000 }, () => {
    test('the CSV loaded: the fixture is real data', () => {
      assert.equal(expected.n, 3108);
    });

    describe('sluice migrate', () => {
      test('creates the pipeline databases, finds the users.xml user exactly as required, and does it again', { timeout: 60_000 }, async () => {
        const first = await cli(['migrate'], env);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /metadata \(pglite\): schema up to date/);
        assert.match(first.stdout, /warehouse databases: dummy, market, marts, quality, raw, staging, vault/);
        assert.match(first.stdout, /query user sluice_query: declared in the server's users\.xml \(no SQL-managed access storage: ACCESS_STORAGE_READONLY\); its grants and limits are as required/);
        const again = await cli(['migrate', '--json'], env);
        assert.equal(again.code, 0, again.stderr);
        const report = JSON.parse(again.stdout) as { databases: string[]; queryUser: { via: string; problems: string[]; usersXml: string | null } };
        assert.deepEqual(report.databases, ['dummy', 'market', 'marts', 'quality', 'raw', 'staging', 'vault']);
        assert.equal(report.queryUser.via, 'declared');
        assert.deepEqual(report.queryUser.problems, []);
        assert.equal(report.queryUser.usersXml, null);
        const rs = await admin.query({ query: 'SELECT name FROM system.databases ORDER BY name', format: 'JSONEachRow' });
        const dbs = (await rs.json<{ name: string }>()).map((r) => r.name);
        for (const db of report.databases) assert.ok(dbs.includes(db), `database ${db} exists`);
      });

      test('a grant missing from users.xml fails with the users.xml to add', { timeout: 60_000 }, async () => {
        // The fixture pipeline `gate` adds a database the test server's users.xml does not grant.
        const r = await cli(['--pipelines', 'test/fixtures/pipelines', 'migrate'], env);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /query user sluice_query is not as the query endpoint needs:\n {2}- it lacks SELECT on gate\.\*/);
        assert.match(r.stderr, /The server keeps users in users\.xml only \(ACCESS_STORAGE_READONLY\)/);
        assert.match(r.stderr, /<query>GRANT SELECT ON `gate`\.\*<\/query>/);
        assert.match(r.stderr, /sluice: query user sluice_query: 1 problem\(s\), see above \[conflict\]/);
      });

      test('a user that exists nowhere, or a wrong password, is reported with the declaration to add', async () => {
        const adminWh = createClickHouseServerWarehouse({ url: adminUrl });
        try {
          const config = (q: string) => loadConfig({ env: { ...env, SLUICE_WAREHOUSE_QUERY_URL: q }, cwd: root });
          const nobody = queryUserOf(config(withUser(adminUrl, 'cqu_nobody', 'x')), ['dummy', 'market'])!;
          const missing = await ensureQueryUser(adminWh, () => createClickHouseServerWarehouse({ url: withUser(adminUrl, 'cqu_nobody', 'x') }), nobody);
          assert.equal(missing.sqlRefusal, 'ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND');
          assert.deepEqual(missing.problems, ['user cqu_nobody does not exist']);
          assert.match(missing.usersXml ?? '', /<cqu_nobody>\n {6}<password_sha256_hex>[0-9a-f]{64}<\/password_sha256_hex>/);

          const wrong = queryUserOf(config(withUser(adminUrl, QUERY_USER, 'wrong')), ['dummy', 'market'])!;
          const denied = await ensureQueryUser(adminWh, () => createClickHouseServerWarehouse({ url: withUser(adminUrl, QUERY_USER, 'wrong') }), wrong);
          assert.equal(denied.problems.length, 1);
          assert.match(denied.problems[0], /cannot log in as sluice_query with the password of warehouse\.queryUrl: .*AUTHENTICATION_FAILED/);
        } finally {
          await adminWh.close();
        }
      });

      test('every statement it runs on a server with SQL-managed access is valid SQL to this engine', async () => {
        const spec = queryUserOf(loadConfig({ env, cwd: root }), ['dummy', 'market'])!;
        for (const sql of queryUserStatements(spec)) {
          const rs = await admin.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: sql }, format: 'JSONEachRow' });
          const [{ f }] = await rs.json<{ f: string }>();
          assert.equal(f.split(' ')[0], sql.split(' ')[0], sql);
        }
      });
    });

    describe('connected directly as the query user, past every parser check', () => {
      test('reads the pipeline databases, and system.tables shows nothing else', async () => {
        const [r] = await asUser.query<{ n: number }>(`SELECT count() AS n FROM ${table}`);
        assert.equal(Number(r.n), expected.n);
        const dbs = await asUser.query<{ d: string }>('SELECT DISTINCT database AS d FROM system.tables ORDER BY d');
        // Other tests on this server load the pipelines' databases; the secret one stays out of sight.
        const seen = dbs.map((x) => x.d).filter((d) => d !== 'system');
        assert.ok(seen.includes('marts'), JSON.stringify(seen));
        assert.deepEqual(seen.filter((d) => !['raw', 'staging', 'vault', 'marts', 'quality', 'dummy'].includes(d)), [], 'only the granted pipeline databases');
        const [{ readonly }] = await asUser.query<{ readonly: unknown }>("SELECT getSetting('readonly') AS readonly");
        assert.equal(Number(readonly), 2);
      });

      test('cannot write, change the schema, or manage the server', async () => {
        const refused: [string, string][] = [
          [`INSERT INTO ${table} (InvoiceNo) VALUES ('x')`, 'ACCESS_DENIED'],
          [`INSERT INTO ${table} (InvoiceNo) SELECT InvoiceNo FROM ${table}`, 'ACCESS_DENIED'],
          [`CREATE TABLE marts.cqu_evil_${id} (a String) ENGINE = Memory`, 'ACCESS_DENIED'],
          ['CREATE TEMPORARY TABLE cqu_tmp (a String)', 'ACCESS_DENIED'],
          [`CREATE VIEW marts.cqu_view_${id} AS SELECT 1`, 'ACCESS_DENIED'],
          ['CREATE DATABASE cqu_evil', 'ACCESS_DENIED'],
          [`DROP TABLE ${table}`, 'ACCESS_DENIED'],
          ['DROP DATABASE marts', 'ACCESS_DENIED'],
          [`TRUNCATE TABLE ${table}`, 'ACCESS_DENIED'],
          [`ALTER TABLE ${table} DELETE WHERE 1`, 'ACCESS_DENIED'],
          [`RENAME TABLE ${table} TO marts.cqu_renamed_${id}`, 'ACCESS_DENIED'],
          [`OPTIMIZE TABLE ${table} FINAL`, 'ACCESS_DENIED'],
          ["ATTACH TABLE marts.cqu_passwd (a String) ENGINE = File(LineAsString, '/etc/passwd')", 'ACCESS_DENIED'],
          [`BACKUP TABLE ${table} TO File('/tmp/cqu-backup')`, 'ACCESS_DENIED'],
          ['CREATE FUNCTION cqu_f AS x -> x', 'ACCESS_DENIED'],
          ['GRANT ALL ON *.* TO sluice_query', 'ACCESS_DENIED'],
          ['CREATE USER cqu_evil', 'ACCESS_DENIED'],
          ['KILL QUERY WHERE 1', 'ACCESS_DENIED'],
          ['SYSTEM SHUTDOWN', 'ACCESS_DENIED'],
          ['SYSTEM FLUSH LOGS', 'ACCESS_DENIED'],
        ];
        for (const [sql, type] of refused) assert.equal(await outcome(asUser, sql), type, sql);
        const [r] = await asUser.query<{ n: number }>(`SELECT count() AS n FROM ${table}`);
        assert.equal(Number(r.n), expected.n, 'the table is as it was');
      });

      test('cannot read files, other hosts or programs, nor databases outside the pipelines', async () => {
        const refused: [string, string][] = [
          ["SELECT * FROM file('/etc/passwd', 'LineAsString')", 'ACCESS_DENIED'],
          ["INSERT INTO FUNCTION file('/tmp/cqu-pwned.txt', 'LineAsString') SELECT 'x'", 'ACCESS_DENIED'],
          [`SELECT * FROM url('${adminUrl}/?query=SELECT%201', 'LineAsString')`, 'ACCESS_DENIED'],
          [`SELECT * FROM remote('127.0.0.1:28124', '${secretDb}', 'tokens')`, 'ACCESS_DENIED'],
          ["SELECT * FROM s3('http://127.0.0.1:29000/bucket/x.csv', 'CSV')", 'ACCESS_DENIED'],
          ["SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')", 'ACCESS_DENIED'],
          ["SELECT * FROM postgresql('127.0.0.1:25432', 'db', 't', 'u', 'p')", 'ACCESS_DENIED'],
          [`SELECT * FROM ${secretDb}.tokens`, 'ACCESS_DENIED'],
          [`SELECT * FROM view(SELECT * FROM ${secretDb}.tokens)`, 'ACCESS_DENIED'],
          ['SELECT addressToLine(1)', 'ACCESS_DENIED'],
        ];
        for (const [sql, type] of refused) assert.equal(await outcome(asUser, sql), type, sql);
      });

      test('reads exactly these system tables: those every user sees and those granted', async () => {
        const rs = await admin.query({ query: "SELECT name FROM system.tables WHERE database = 'system' ORDER BY name", format: 'JSONEachRow' });
        const all = (await rs.json<{ name: string }>()).map((r) => r.name);
        const readable: string[] = [];
        for (const name of all) {
          const type = await outcome(asUser, `SELECT * FROM system.\`${name}\` LIMIT 0`);
          if (type === 'ok') readable.push(name);
          else assert.equal(type, 'ACCESS_DENIED', `system.${name}`);
        }
        assert.deepEqual(readable, [
          // Every user of this engine version reads these, whatever its grants: names of engine
          // features, its own session's settings, quota and roles; tables, columns, databases and
          // completions are filtered to what the user may see.
          'aggregate_function_combinators', 'collations', 'columns', 'completions', 'contributors', 'current_roles',
          'data_type_families', 'database_engines', 'databases', 'dictionary_layouts', 'disk_types', 'enabled_roles',
          'formats', 'functions', 'licenses',
          // Granted: the endpoint's generators and parts (filtered to visible tables too).
          'numbers', 'numbers_mt',
          'one', 'parts', 'privileges', 'quota_usage', 'settings', 'table_engines', 'table_functions', 'tables', 'time_zones',
          'zeros', 'zeros_mt',
        ]);
        for (const t of ['users', 'grants', 'role_grants', 'settings_profile_elements', 'quotas', 'processes', 'server_settings', 'clusters', 'disks', 'macros']) {
          assert.ok(all.includes(t) && !readable.includes(t), `system.${t} exists and is not readable`);
        }
        assert.equal(await outcome(asUser, 'SELECT * FROM information_schema.tables'), 'ACCESS_DENIED');
        const [{ n }] = await asUser.query<{ n: number }>(`SELECT count() AS n FROM system.parts WHERE database = '${secretDb}'`);
        assert.equal(Number(n), 0, 'parts of other databases stay hidden');
      });

      test('cannot lift a limit past the profile\'s maximum, remove it, or leave read-only mode', async () => {
        const refused: [string, string][] = [
          ['SELECT 1 SETTINGS max_execution_time = 31', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_execution_time = 0', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_memory_usage = 1073741825', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_memory_usage = 0', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_result_rows = 10002', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_result_rows = 0', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_result_bytes = 67108865', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS max_result_bytes = 0', 'SETTING_CONSTRAINT_VIOLATION'],
          ['SELECT 1 SETTINGS readonly = 0', 'READONLY'],
          // Even the stricter value: why the endpoint appends no `readonly = 1` for this user.
          ['SELECT 1 SETTINGS readonly = 1', 'READONLY'],
          ['SET readonly = 0', 'READONLY'],
          ['SET max_execution_time = 0', 'SETTING_CONSTRAINT_VIOLATION'],
        ];
        for (const [sql, type] of refused) assert.equal(await outcome(asUser, sql), type, sql);
        assert.equal(await outcome(asUser, 'SELECT 1 SETTINGS max_execution_time = 30, max_memory_usage = 1073741824, max_result_rows = 10001, max_result_bytes = 67108864'), 'ok');
        assert.equal(await outcome(asUser, 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1 SETTINGS max_execution_time = 1'), 'TIMEOUT_EXCEEDED');
      });
    });

    describe('the query endpoint (SafeQuery) over warehouse.queryUrl', () => {
      let rt: Runtime;
      before(async () => {
        rt = await openRuntime(loadConfig({ env: envIn('runtime'), cwd: root, logLevel: 'silent' }));
      });
      after(async () => {
        await rt?.close();
      });

      test('answers SELECT, SHOW, DESCRIBE and EXPLAIN on the real data', async () => {
        const { rows } = await rt.query.run(`SELECT count() AS n, sum(Quantity) AS qty FROM ${table}`);
        assert.deepEqual(rows.map((r) => ({ n: Number(r.n), qty: Number(r.qty) })), [expected]);
        const top = await rt.query.run(`SELECT Country, count() AS lines FROM ${table} GROUP BY Country ORDER BY lines DESC, Country LIMIT 3`);
        assert.equal(top.rows[0].Country, 'United Kingdom');
        const tables = await rt.query.run('SHOW TABLES FROM marts');
        assert.ok(tables.rows.some((r) => r.name === table.slice('marts.'.length)));
        const dbs = (await rt.query.run('SHOW DATABASES')).rows.map((r) => r.name);
        assert.ok(dbs.includes('marts') && !dbs.includes(secretDb), dbs.join(', '));
        const described = await rt.query.run(`DESCRIBE TABLE ${table}`);
        assert.deepEqual(described.rows.map((r) => r.name), ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country']);
        const created = await rt.query.run(`SHOW CREATE TABLE ${table}`);
        assert.match(String(Object.values(created.rows[0])[0]), /MergeTree/);
        const explained = await rt.query.run(`EXPLAIN SELECT count() FROM ${table} WHERE Country = 'France'`);
        assert.equal(explained.statement, 'explain');
        assert.ok(explained.rows.length > 0);
        const gen = await rt.query.run('SELECT number FROM system.numbers LIMIT 3');
        assert.deepEqual(gen.rows.map((r) => Number(r.number)), [0, 1, 2]);
        const big = await rt.query.run('SELECT number FROM numbers(20000)');
        assert.equal(big.truncated, true);
        assert.equal(big.rows.length, 10_000);
      });

      test('refuses attack statements before they reach the engine', async () => {
        for (const sql of [
          "SELECT * FROM file('/etc/passwd', 'LineAsString')",
          `SELECT * FROM url('${adminUrl}/?query=SELECT%201', 'LineAsString')`,
          `INSERT INTO ${table} (InvoiceNo) VALUES ('x')`,
          `DROP TABLE ${table}`,
          'SELECT * FROM system.users',
          `SELECT * FROM ${secretDb}.tokens`,
          'SELECT 1 SETTINGS max_execution_time = 0',
          "SELECT getServerSetting('path')",
        ]) {
          await assert.rejects(rt.query.run(sql), QueryRefusedError, sql);
        }
        // The engine's parser says it is not one statement.
        await assert.rejects(rt.query.run(`SELECT 1; DROP TABLE ${table}`), (e: unknown) => e instanceof QuerySqlError && /Multi-statements are not allowed/.test(e.message));
        const [r] = await asUser.query<{ n: number }>(`SELECT count() AS n FROM ${table}`);
        assert.equal(Number(r.n), expected.n, 'the table is as it was');
      });

      test('the time limit ends a slow statement on the server itself', { timeout: 20_000 }, async () => {
        const q = new SafeQuery({ connect: () => createClickHouseServerWarehouse({ url: queryUrl, requestTimeoutMs: 10_000 }), limits: { timeoutMs: 1_000 } });
        try {
          const started = Date.now();
          const err = await q.run('SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1').then(() => null, (e: unknown) => e);
          assert.ok(err instanceof QueryLimitError, String(err));
          assert.match(err.message, /ran past the 1 s limit \(TIMEOUT_EXCEEDED/);
          assert.ok(Date.now() - started < 6_000, `ended after ${Date.now() - started} ms`);
        } finally {
          await q.close();
        }
      });

      test('sluice query goes through the query user too', { timeout: 60_000 }, async () => {
        const ok = await cli(['query', `SELECT count() AS n FROM ${table}`, '--format', 'json'], envIn('cli-query'));
        assert.equal(ok.code, 0, ok.stderr);
        assert.deepEqual(JSON.parse(ok.stdout), [{ n: expected.n }]);
      });
    });
  });
}
