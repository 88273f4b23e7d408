import { createHash } from 'node:crypto';
import { limitMaximums, profileOf, type QueryUserSpec } from './query-user-spec.ts';

/** A backquoted ClickHouse identifier. */
export const ident = (name: string): string => `\`${name.replace(/[\\`]/g, (c) => `\\${c}`)}\``;

/** How ClickHouse's `sha256_hash` and users.xml's `password_sha256_hex` hold a password. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** `SELECT ON db.*` for each database and `SELECT ON system.t` for each system table. */
export function grantElements(spec: QueryUserSpec): string[] {
  return [
    ...spec.databases.map((db) => `SELECT ON ${ident(db)}.*`),
    ...spec.systemTables.map((t) => `SELECT ON system.${ident(t)}`),
  ];
}

/** The profile's settings: `readonly = 2` (reads, and setting changes within the constraints) and the limits. */
export function profileSettings(spec: QueryUserSpec): string {
  const limits = limitMaximums(spec.limits).map(({ setting, value }) => `${setting} = ${value} MIN 1 MAX ${value}`);
  return ['readonly = 2', ...limits].join(', ');
}

/**
 * The statements that create the query user on a server with SQL-managed access, or bring
 * an existing one back to what the config says. Each is idempotent: CREATE … IF NOT EXISTS
 * then ALTER (a changed limit or password converges), and one GRANT … WITH REPLACE OPTION
 * that leaves exactly these grants, so a database dropped from the pipelines loses its
 * grant. The password travels as its SHA-256 only, never in the statement text.
 *
 * @example
 * for (const sql of queryUserStatements(spec)) await admin.command(sql);
 */
export function queryUserStatements(spec: QueryUserSpec): string[] {
  const user = ident(spec.user);
  const profile = ident(profileOf(spec));
  const settings = profileSettings(spec);
  const auth = `IDENTIFIED WITH sha256_hash BY '${sha256Hex(spec.password)}'`;
  return [
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${profile} SETTINGS ${settings}`,
    `ALTER SETTINGS PROFILE ${profile} SETTINGS ${settings}`,
    `CREATE USER IF NOT EXISTS ${user} ${auth} SETTINGS PROFILE ${profile}`,
    `ALTER USER ${user} ${auth} SETTINGS PROFILE ${profile}`,
    `GRANT ${grantElements(spec).join(', ')} TO ${user} WITH REPLACE OPTION`,
  ];
}
