import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ValidationError } from '../../src/core/errors.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { queryUserOf } from '../../src/presets/query-user.ts';
import { ident, queryUserStatements } from '../../src/runtime/query-user/query-user-sql.ts';
import { limitMaximums, type QueryUserSpec } from '../../src/runtime/query-user/query-user-spec.ts';
import { queryUserXml } from '../../src/runtime/query-user/query-user-xml.ts';
import { limitsSettings } from '../../src/runtime/safe-query/limits-settings.ts';
import { DEFAULT_QUERY_LIMITS } from '../../src/runtime/safe-query/query-policy.ts';

const spec: QueryUserSpec = {
  user: 'sluice_query',
  password: "pa'ss\\Zq9",
  databases: ['marts', 'raw'],
  systemTables: ['numbers', 'one'],
  limits: { timeoutMs: 30_000, maxRows: 10_000, maxBytes: 16 << 20, maxMemoryBytes: 2 ** 30, maxConcurrent: 4 },
};
const hash = createHash('sha256').update(spec.password).digest('hex');

describe('the query user\'s SQL', () => {
  test('profile, user and one replacing GRANT, with the password only as its SHA-256', () => {
    const limits = 'max_execution_time = 30 MIN 1 MAX 30, max_result_rows = 10001 MIN 1 MAX 10001, '
      + 'max_result_bytes = 67108864 MIN 1 MAX 67108864, max_memory_usage = 1073741824 MIN 1 MAX 1073741824';
    assert.deepEqual(queryUserStatements(spec), [
      `CREATE SETTINGS PROFILE IF NOT EXISTS \`sluice_query\` SETTINGS readonly = 2, ${limits}`,
      `ALTER SETTINGS PROFILE \`sluice_query\` SETTINGS readonly = 2, ${limits}`,
      `CREATE USER IF NOT EXISTS \`sluice_query\` IDENTIFIED WITH sha256_hash BY '${hash}' SETTINGS PROFILE \`sluice_query\``,
      `ALTER USER \`sluice_query\` IDENTIFIED WITH sha256_hash BY '${hash}' SETTINGS PROFILE \`sluice_query\``,
      'GRANT SELECT ON `marts`.*, SELECT ON `raw`.*, SELECT ON system.`numbers`, SELECT ON system.`one` TO `sluice_query` WITH REPLACE OPTION',
    ]);
    assert.ok(queryUserStatements(spec).every((s) => !s.includes('Zq9')), 'the password never appears');
  });

  test('identifiers are backquoted with backquotes and backslashes escaped', () => {
    assert.equal(ident('a`b\\c'), '`a\\`b\\\\c`');
    const odd = queryUserStatements({ ...spec, databases: ['we`ird'] }).at(-1)!;
    assert.match(odd, /SELECT ON `we\\`ird`\.\*/);
  });

  test('the maximums are exactly what the endpoint sets on a statement, for any limits', () => {
    for (const limits of [DEFAULT_QUERY_LIMITS, { timeoutMs: 1_500, maxRows: 5, maxBytes: 4096, maxMemoryBytes: 64 << 20, maxConcurrent: 1 }]) {
      const set = new Map(limitsSettings(limits).split(', ').map((kv) => kv.split(' = ') as [string, string]));
      for (const { setting, value } of limitMaximums(limits)) assert.equal(set.get(setting), String(value), setting);
    }
  });
});

describe('the users.xml declaration', () => {
  test('profile with values and MIN 1 MAX constraints, the user with the hash and the grants', () => {
    const text = queryUserXml(spec);
    assert.match(text, /<sluice_query>\n {6}<readonly>2<\/readonly>\n {6}<max_execution_time>30<\/max_execution_time>/);
    assert.match(text, /<max_memory_usage><min>1<\/min><max>1073741824<\/max><\/max_memory_usage>/);
    assert.match(text, new RegExp(`<password_sha256_hex>${hash}</password_sha256_hex>`));
    assert.match(text, /<query>GRANT SELECT ON `marts`\.\*<\/query>\n {8}<query>GRANT SELECT ON `raw`\.\*<\/query>\n {8}<query>GRANT SELECT ON system\.`numbers`<\/query>/);
    assert.ok(!text.includes('Zq9'), 'the password never appears');
  });

  test('XML special characters in names are escaped', () => {
    assert.match(queryUserXml({ ...spec, databases: ['a&b'] }), /GRANT SELECT ON `a&#38;b`\.\*/);
  });
});

describe('queryUserOf', () => {
  const config = (env: Record<string, string>) => loadConfig({ env, cwd: process.cwd(), home: '/tmp/sluice-unit' });
  const server = { SLUICE_WAREHOUSE_URL: 'http://admin:secret@ch:8123' };

  test('user and password come from warehouse.queryUrl, percent-decoded; databases add the pipelines\'', () => {
    const s = queryUserOf(config({ ...server, SLUICE_WAREHOUSE_QUERY_URL: 'http://sluice_query:p%40ss%3Aw@ch:8123' }), ['dummy', 'marts']);
    assert.equal(s?.user, 'sluice_query');
    assert.equal(s?.password, 'p@ss:w');
    assert.deepEqual(s?.databases, ['dummy', 'marts', 'quality', 'raw', 'staging', 'vault']);
    assert.ok(s?.systemTables.includes('tables') && s.systemTables.includes('numbers'));
    assert.equal(s?.limits.timeoutMs, 30_000);
  });

  test('null without a server or without a queryUrl', () => {
    assert.equal(queryUserOf(config({}), []), null);
    assert.equal(queryUserOf(config(server), []), null);
  });

  test('refuses a queryUrl without credentials, with a bad name, or with the pipelines\' own user', () => {
    const bad = (queryUrl: string, re: RegExp) =>
      assert.throws(() => queryUserOf(config({ ...server, SLUICE_WAREHOUSE_QUERY_URL: queryUrl }), []), (e: unknown) => e instanceof ValidationError && re.test(e.message));
    bad('http://ch:8123', /must carry the read-only user and its password/);
    bad('http://sluice_query@ch:8123', /must carry the read-only user and its password/);
    bad('http://x%20y:pw@ch:8123', /user name "x y"/);
    bad('http://admin:other@ch:8123', /names admin, the user of warehouse.url/);
    assert.throws(() => queryUserOf(config({ SLUICE_WAREHOUSE_URL: 'http://ch:8123', SLUICE_WAREHOUSE_QUERY_URL: 'http://default:pw@ch:8123' }), []), /names default/);
  });
});
