import { grantElements, sha256Hex } from './query-user-sql.ts';
import { limitMaximums, profileOf, type QueryUserSpec } from './query-user-spec.ts';

const xml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * What a server without SQL-managed access (users.xml only) needs so the query user exists
 * as `sluice migrate` would create it: the `<profiles>` and `<users>` entries to merge into
 * the server's users.xml (or a file in users.d/). A value of its own besides the constraint,
 * because the engine checks a constraint only when a setting changes, and 0 (no limit)
 * must count as a change.
 *
 * @example
 * process.stderr.write(queryUserXml(spec));
 */
export function queryUserXml(spec: QueryUserSpec): string {
  const profile = xml(profileOf(spec));
  const user = xml(spec.user);
  const limits = limitMaximums(spec.limits);
  const lines = [
    '<clickhouse>',
    '  <profiles>',
    `    <${profile}>`,
    '      <readonly>2</readonly>',
    ...limits.map(({ setting, value }) => `      <${setting}>${value}</${setting}>`),
    '      <constraints>',
    ...limits.map(({ setting, value }) => `        <${setting}><min>1</min><max>${value}</max></${setting}>`),
    '      </constraints>',
    `    </${profile}>`,
    '  </profiles>',
    '  <users>',
    `    <${user}>`,
    `      <password_sha256_hex>${sha256Hex(spec.password)}</password_sha256_hex>`,
    `      <profile>${profile}</profile>`,
    '      <grants>',
    ...grantElements(spec).map((g) => `        <query>GRANT ${xml(g)}</query>`),
    '      </grants>',
    `    </${user}>`,
    '  </users>',
    '</clickhouse>',
  ];
  return `${lines.join('\n')}\n`;
}
