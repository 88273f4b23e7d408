import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../src/presets/runtime.ts';
import { SafeQuery } from '../../src/runtime/safe-query/safe-query.ts';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { QueryBusyError, QueryLimitError } from '../../src/core/query-errors.ts';
import { openTestRuntime, retailCounts, tempHome } from '../helpers/runtime.ts';
import { RETAIL_COUNTS_SQL } from '../helpers/retail-totals.ts';
import { startApi } from '../helpers/api.ts';

// The probe's statements and their variants: each must be refused with 400 or 403 and
// leave files, tables and the process as they were.
function attackCorpus(home: string, canaryUrl: string, apiUrl: string): string[] {
  const pwned = join(home, 'pwned.txt');
  return [
    "SELECT * FROM file('/etc/passwd','LineAsString')",
    "select * from FILE('/etc/passwd', 'LineAsString')",
    "SELECT/**/*/**/FROM/**/file('/proc/self/environ','LineAsString')",
    "  SELECT *\n\tFROM\n file( '/etc/passwd' , 'LineAsString' ) -- comment",
    `SELECT * FROM file('${join(home, 'metadata')}/*', 'LineAsString')`,
    "SELECT file('/etc/passwd') AS f",
    "SELECT length(file('/etc/hostname'))",
    `INSERT INTO FUNCTION file('${pwned}','LineAsString') SELECT 'hi'`,
    'DROP TABLE marts.dim_country',
    'drop table if exists marts.dim_country',
    'TRUNCATE TABLE marts.dim_country',
    'SELECT 1; DROP TABLE marts.dim_time',
    'SELECT 1;DROP TABLE marts.dim_time;',
    'SYSTEM SHUTDOWN; SELECT 1',
    'SYSTEM SHUTDOWN',
    `SELECT * FROM url('${apiUrl}/api/v1/runs', 'LineAsString', headers('Authorization'='Bearer x'))`,
    `SELECT * FROM url('${canaryUrl}/slow', 'LineAsString')`,
    `SELECT count() FROM numbers(10) WHERE toString(number) IN (SELECT * FROM url('${canaryUrl}/in', 'LineAsString'))`,
    `SELECT * FROM marts.dim_country AS c, url('http://169.254.169.254/latest/meta-data', 'LineAsString') AS u`,
    "SELECT * FROM remote('127.0.0.1:9000', system.one)",
    "SELECT * FROM remoteSecure('127.0.0.1:9440', system.one)",
    "SELECT * FROM cluster('default', system.users)",
    `SELECT * FROM s3('${canaryUrl}/bucket/x.csv', 'CSV')`,
    "SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')",
    "SELECT * FROM input('x String')",
    "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')",
    "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')",
    "SELECT * FROM merge('system', '^users$')",
    'SELECT * FROM view(SELECT * FROM system.users)',
    "SELECT * FROM generateRandom('a String') LIMIT 1",
    "SELECT dictGet('d', 'a', toUInt64(1))",
    "SELECT * FROM dictionary('d')",
    "SELECT hasColumnInTable('127.0.0.1', 'system', 'users', 'name')",
    "SELECT getServerSetting('path')",
    'SELECT filesystemAvailable()',
    `SELECT 1 INTO OUTFILE '${join(home, 'out.txt')}'`,
    'SELECT 1 FORMAT CSV',
    'SET max_execution_time = 0',
    'SELECT 1 SETTINGS readonly = 0',
    'SELECT count() FROM marts.fact_sales SETTINGS max_execution_time = 0, max_memory_usage = 0',
    'KILL QUERY WHERE 1',
    "ATTACH TABLE marts.x (a String) ENGINE = File(LineAsString, '/etc/passwd')",
    "CREATE TABLE marts.evil (a String) ENGINE = File(LineAsString, '/etc/passwd')",
    'CREATE DATABASE evil',
    'ALTER TABLE marts.fact_sales DELETE WHERE 1',
    'OPTIMIZE TABLE marts.fact_sales FINAL',
    'RENAME TABLE marts.dim_country TO marts.x',
    'EXCHANGE TABLES marts.dim_country AND marts.dim_time',
    'DETACH TABLE marts.dim_country',
    'INSERT INTO marts.dim_country SELECT * FROM marts.dim_country',
    'WITH x AS (SELECT 1) INSERT INTO marts.dim_country SELECT * FROM x',
    'GRANT ALL ON *.* TO default',
    'CREATE USER evil',
    'USE system',
    'SELECT * FROM system.users',
    'SELECT name, value FROM system.settings',
    'SELECT * FROM system.server_settings',
    'SELECT * FROM system.grants',
    'SELECT query FROM system.processes',
    'SELECT * FROM system.named_collections',
    'SELECT * FROM information_schema.tables',
    "SELECT 'default' IN system.users",
    'SELECT (SELECT name FROM system.users LIMIT 1)',
    'WITH u AS (SELECT * FROM system.users) SELECT * FROM u',
    "SHOW SETTINGS LIKE '%'",
    'SHOW GRANTS',
    'SHOW PROCESSLIST',
    'SHOW USERS',
    "DESCRIBE TABLE file('/etc/passwd', 'LineAsString')",
    "EXPLAIN PIPELINE SELECT * FROM file('/etc/passwd', 'LineAsString')",
    'EXPLAIN AST INSERT INTO marts.dim_country SELECT * FROM marts.dim_country',
    'SELECT `a\n      Function numbers` FROM marts.dim_country',
    `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`,
    `SELECT ${Array.from({ length: 20_000 }, () => '1').join('+')}`,
    `SELECT ${'x'.repeat(100_001)}`,
    '',
  ];
}

describe('POST /query runs one read-only statement, decided by the engine', () => {
  const dir = tempHome();
  let rt: Runtime;
  let api: { app: FastifyInstance; url: string };
  let canary: Server;
  let canaryUrl = '';
  let canaryHits = 0;

  before(async () => {
    rt = await openTestRuntime(dir.home);
    const { done } = await rt.coordinator.submit({ pipeline: 'retail', partition: '2010-12-01' });
    assert.equal((await done).run.status, 'succeeded');
    api = await startApi(rt, async () => ({ role: 'edit', name: 'attacker' }));
    canary = createServer((_req, res) => {
      canaryHits += 1;
      res.end('root:x:0:0\n');
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
  });
  after(async () => {
    await api?.app.close();
    await new Promise<void>((r) => (canary ? canary.close(() => r()) : r()));
    await rt?.close();
    dir.cleanup();
  });

  const post = async (sql: string) => {
    const res = await fetch(`${api.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const state = async () => ({
    tables: (await rt.services.warehouse.query<{ t: string }>("SELECT database || '.' || name AS t FROM system.tables WHERE database NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA') ORDER BY t")).map((r) => r.t),
    counts: await retailCounts(rt),
    files: readdirSync(dir.home).sort(),
  });

  test('every statement of the attack corpus is refused and nothing changes', async () => {
    const before = await state();
    const corpus = attackCorpus(dir.home, canaryUrl, api.url);
    assert.ok(corpus.length >= 40, `${corpus.length} statements`);
    const accepted: string[] = [];
    for (const sql of corpus) {
      const { status, body } = await post(sql);
      if (status !== 400 && status !== 403) accepted.push(`${status} ${sql.slice(0, 80)}: ${JSON.stringify(body).slice(0, 200)}`);
      else assert.ok(typeof body.detail === 'string' && body.detail.length > 0 && body.detail.length < 1_200, `bounded detail for ${sql.slice(0, 60)}`);
      assert.doesNotMatch(JSON.stringify(body), /root:x:0:0/, `no file content in the answer to ${sql.slice(0, 60)}`);
    }
    assert.deepEqual(accepted, [], 'statements that were not refused');
    assert.deepEqual(await state(), before, 'tables, row counts and files unchanged');
    assert.equal(existsSync(join(dir.home, 'pwned.txt')), false);
    assert.equal(canaryHits, 0, 'no statement reached another server');
    const ready = await fetch(`${api.url}/readyz`);
    assert.equal(ready.status, 200, 'the control plane is still up');
  });

  test('refusals name the rule; SQL errors carry the engine message and position', async () => {
    const file = await post("SELECT * FROM file('/etc/passwd','LineAsString')");
    assert.equal(file.status, 403);
    assert.equal(file.body.code, 'query_refused');
    assert.match(String(file.body.detail), /table function file\(\) is not allowed; allowed table functions: numbers/);
    const users = await post('SELECT * FROM system.users');
    assert.match(String(users.body.detail), /system\.users is not readable here/);
    const drop = await post('DROP TABLE marts.dim_country');
    assert.match(String(drop.body.detail), /DropQuery statements are not allowed/);
    const multi = await post('SELECT 1; DROP TABLE marts.dim_time');
    assert.equal(multi.status, 400);
    assert.match(String(multi.body.detail), /Multi-statements are not allowed/);
    const typo = await post('SELEC 1');
    assert.equal(typo.status, 400);
    assert.equal(typo.body.code, 'sql_error');
    assert.equal(typo.body.position, 7, 'the engine\'s 1-based position of the token it could not read');
    const unknown = await post('SELECT nope FROM marts.fact_sales');
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.body.detail), /UNKNOWN_IDENTIFIER/);
    assert.doesNotMatch(String(unknown.body.detail), /max_execution_time|formatQuery/, 'our wrapper is not in the message');
  });

  test('the queries of the README and of a schema browser still work, as rows of objects', async () => {
    const ok = async (sql: string) => {
      const r = await post(sql);
      assert.equal(r.status, 200, `${sql}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.ok(Array.isArray(r.body.rows));
      for (const row of r.body.rows as unknown[]) assert.equal(typeof row, 'object');
      return r.body as { rows: Record<string, unknown>[]; truncated: boolean; statement: string };
    };
    assert.equal(Number((await ok('SELECT count() AS n FROM marts.fact_sales')).rows[0].n), 1_942);
    assert.equal(Number((await ok(RETAIL_COUNTS_SQL)).rows[0].raw), 3_108);
    await ok("SELECT day, lines, missing_customer_id_ratio FROM quality.data_quality ORDER BY day");
    await ok('WITH c AS (SELECT country, count() AS n FROM marts.dim_country GROUP BY country) SELECT * FROM c ORDER BY n DESC LIMIT 5');
    await ok('SELECT f.*, 1 AS one FROM marts.fact_sales AS f ORDER BY 1 LIMIT 3');
    await ok("SELECT database, name, engine, total_rows FROM system.tables WHERE database IN ('raw', 'staging', 'vault', 'marts', 'quality') ORDER BY database, name");
    await ok("SELECT name, type FROM system.columns WHERE database = 'marts' AND table = 'fact_sales' ORDER BY position");
    assert.equal((await ok('SHOW TABLES FROM marts')).statement, 'show');
    await ok('SHOW DATABASES');
    assert.equal((await ok('DESCRIBE TABLE marts.fact_sales')).statement, 'describe');
    await ok('SHOW CREATE TABLE marts.dim_country');
    assert.equal((await ok('EXPLAIN SELECT count() FROM marts.fact_sales')).statement, 'explain');
    await ok('EXPLAIN PIPELINE SELECT sum(quantity) FROM staging.online_retail');
    await ok('SELECT number FROM numbers(3) WHERE number IN (SELECT 1)');
  });

  test('results are cut at the row limit with a flag', async () => {
    const big = await post('SELECT number FROM numbers(100000)');
    assert.equal(big.status, 200);
    assert.equal((big.body.rows as unknown[]).length, 10_000);
    assert.equal(big.body.truncated, true);
    const exact = await post('SELECT * FROM staging.online_retail');
    assert.equal((exact.body.rows as unknown[]).length, 3_108);
    assert.equal(exact.body.truncated, false);
  });
});

describe('SafeQuery limits', () => {
  const dir = tempHome();
  let rt: Runtime;

  before(async () => {
    rt = await openTestRuntime(dir.home);
  });
  after(async () => {
    await rt?.close();
    dir.cleanup();
  });

  test('a slow statement ends at its time limit and blocks neither the pipelines\' connection nor other callers', async () => {
    const path = join(dir.home, 'warehouse');
    const q = new SafeQuery({ connect: () => createChdbWarehouse({ path }), limits: { timeoutMs: 1_000, maxConcurrent: 4 } });
    try {
      const started = Date.now();
      const slow = q.run('SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1', { caller: 'a' });
      const failed = slow.then(() => null, (err: unknown) => err);
      await new Promise((r) => setTimeout(r, 200));
      let t = Date.now();
      await rt.services.warehouse.query('SELECT 1');
      const pipelineWaitMs = Date.now() - t;
      t = Date.now();
      await q.run('SELECT 1', { caller: 'b' });
      const otherCallerMs = Date.now() - t;
      const err = await failed;
      assert.ok(err instanceof QueryLimitError, String(err));
      assert.match(err.message, /ran past the 1 s limit/);
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 6_000, `ended after ${tookMs} ms`);
      assert.ok(pipelineWaitMs < 500, `pipelines' connection waited ${pipelineWaitMs} ms`);
      assert.ok(otherCallerMs < 500, `another caller waited ${otherCallerMs} ms`);
    } finally {
      await q.close();
    }
  });

  test('a statement that needs more memory than allowed fails with the limit named', async () => {
    const path = join(dir.home, 'warehouse');
    const q = new SafeQuery({ connect: () => createChdbWarehouse({ path }), limits: { maxMemoryBytes: 64 << 20 } });
    try {
      await assert.rejects(q.run('SELECT groupArray(number) FROM numbers(100000000)'), (err: unknown) => err instanceof QueryLimitError && /memory/.test(err.message));
    } finally {
      await q.close();
    }
  });

  test('beyond the concurrency limit a caller is told to retry', async () => {
    const path = join(dir.home, 'warehouse');
    const q = new SafeQuery({ connect: () => createChdbWarehouse({ path }), limits: { timeoutMs: 1_000, maxConcurrent: 2 } });
    try {
      const heavy = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1';
      const first = q.run(heavy, { caller: 'a' }).catch((e: unknown) => e);
      await assert.rejects(q.run(heavy, { caller: 'a' }), QueryBusyError, 'one caller holds at most half of the slots');
      const second = q.run(heavy, { caller: 'b' }).catch((e: unknown) => e);
      await assert.rejects(q.run('SELECT 1', { caller: 'c' }), QueryBusyError);
      await Promise.all([first, second]);
    } finally {
      await q.close();
    }
  });
});
