import { describeError } from '../../core/errors.ts';
import type { Warehouse } from '../../ports/warehouse.ts';
import { engineErrorType } from './engine-error-type.ts';
import { limitMaximums, type QueryUserSpec } from './query-user-spec.ts';

interface GrantRow {
  access_type: string;
  database: string | null;
  table: string | null;
  is_partial_revoke: number;
  grant_option: number;
}

/** Grants it lacks, and grants beyond SELECT on its databases and system tables. */
async function grantProblems(admin: Warehouse, spec: QueryUserSpec): Promise<string[]> {
  const rows = await admin.query<GrantRow>(
    'SELECT access_type, database, table, is_partial_revoke, grant_option FROM system.grants WHERE user_name = {u:String}',
    { u: spec.user },
  );
  const granted = rows.filter((r) => Number(r.is_partial_revoke) === 0);
  const select = granted.filter((r) => r.access_type === 'SELECT');
  const problems: string[] = [];
  const missingDbs = spec.databases.filter((db) => !select.some((r) => r.database === db && r.table === null));
  const missingTables = spec.systemTables.filter((t) => !select.some((r) => r.database === 'system' && (r.table === t || r.table === null)));
  if (missingDbs.length > 0) problems.push(`it lacks SELECT on ${missingDbs.map((db) => `${db}.*`).join(', ')}`);
  if (missingTables.length > 0) problems.push(`it lacks SELECT on ${missingTables.map((t) => `system.${t}`).join(', ')}`);
  const allowed = (r: GrantRow) =>
    r.access_type === 'SELECT' && Number(r.grant_option) === 0 &&
    ((r.database !== null && spec.databases.includes(r.database)) || (r.database === 'system' && r.table !== null && spec.systemTables.includes(r.table)));
  const extra = granted.filter((r) => !allowed(r)).map((r) => `${r.access_type} ON ${r.database ?? '*'}.${r.table ?? '*'}${Number(r.grant_option) ? ' WITH GRANT OPTION' : ''}`);
  if (extra.length > 0) problems.push(`it holds more than it needs: ${extra.join(', ')}`);
  const roles = await admin.query<{ r: string }>('SELECT granted_role_name AS r FROM system.role_grants WHERE user_name = {u:String}', { u: spec.user });
  if (roles.length > 0) problems.push(`it has roles, whose grants it would hold too: ${roles.map((x) => x.r).join(', ')}`);
  return problems;
}

/** Tries a setting as the user; the engine's error type, or '' when it was accepted. */
async function refusal(asUser: Warehouse, setting: string, value: number): Promise<string> {
  try {
    await asUser.query(`SELECT 1 SETTINGS ${setting} = ${value}`);
    return '';
  } catch (err) {
    return engineErrorType(err) || describeError(err);
  }
}

/** Logs in as the user (proving the password) and probes its profile: readonly = 2, each limit capped at its maximum and not removable. */
async function profileProblems(asUser: Warehouse, spec: QueryUserSpec): Promise<string[]> {
  let readonly: number;
  try {
    const [row] = await asUser.query<{ r: unknown }>("SELECT getSetting('readonly') AS r");
    readonly = Number(row?.r);
  } catch (err) {
    return [`cannot log in as ${spec.user} with the password of warehouse.queryUrl: ${describeError(err)}`];
  }
  const problems = readonly === 2 ? [] : [`its profile has readonly = ${readonly}, not 2`];
  for (const { setting, value } of limitMaximums(spec.limits)) {
    const atMax = await refusal(asUser, setting, value);
    if (atMax !== '') problems.push(`${setting} = ${value} (what the endpoint sets) is refused: ${atMax}`);
    for (const lifted of [value + 1, 0]) {
      const why = await refusal(asUser, setting, lifted);
      if (why !== 'SETTING_CONSTRAINT_VIOLATION') problems.push(`${setting} = ${lifted} is not refused by a constraint (${why || 'accepted'}); it needs MIN 1 MAX ${value}`);
    }
  }
  return problems;
}

/**
 * What is wrong with the query user on the server, as an admin sees its grants and as the
 * user itself sees its profile; empty when it is exactly what `queryUserStatements` makes.
 * Probing as the user also covers a users.xml declaration, which SQL cannot inspect fully.
 */
export async function verifyQueryUser(admin: Warehouse, asUser: Warehouse, spec: QueryUserSpec): Promise<string[]> {
  const [exists] = await admin.query<{ n: number }>('SELECT count() AS n FROM system.users WHERE name = {u:String}', { u: spec.user });
  if (Number(exists?.n ?? 0) === 0) return [`user ${spec.user} does not exist`];
  return [...(await grantProblems(admin, spec)), ...(await profileProblems(asUser, spec))];
}
