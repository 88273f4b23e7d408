import type { Warehouse } from '../../ports/warehouse.ts';
import { engineErrorType } from './engine-error-type.ts';
import { queryUserStatements } from './query-user-sql.ts';
import type { QueryUserSpec } from './query-user-spec.ts';
import { queryUserXml } from './query-user-xml.ts';
import { verifyQueryUser } from './verify-query-user.ts';

/** The server keeps users only in read-only storage (users.xml), or this user lives there. */
const NO_SQL_ACCESS = new Set(['ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND', 'ACCESS_STORAGE_READONLY']);

export interface QueryUserOutcome {
  /** `sql`: created or updated by statements; `declared`: the server's users.xml holds it. */
  readonly via: 'sql' | 'declared';
  /** Empty when the user is as required. */
  readonly problems: readonly string[];
  /** When the user must be declared by hand: the users.xml entries to add. */
  readonly usersXml: string | null;
  /** The engine's refusal that made SQL impossible, for the message. */
  readonly sqlRefusal: string | null;
}

/**
 * Makes the query endpoint's read-only user exist as `spec` says. On a server with
 * SQL-managed access it runs `queryUserStatements`; where access lives only in users.xml
 * (clickhouse-local, config-managed servers) the user can only be declared there, so this
 * checks the declaration instead and, when it is missing or differs, hands back the
 * users.xml to add. Either way it then verifies the result from both sides.
 *
 * @example
 * const r = await ensureQueryUser(admin, () => openAs(queryUrl), spec);
 * if (r.problems.length > 0) console.error(r.problems.join('\n'), r.usersXml ?? '');
 */
export async function ensureQueryUser(admin: Warehouse, connectAsUser: () => Warehouse, spec: QueryUserSpec): Promise<QueryUserOutcome> {
  let sqlRefusal: string | null = null;
  for (const sql of queryUserStatements(spec)) {
    try {
      await admin.command(sql);
    } catch (err) {
      const type = engineErrorType(err);
      if (!NO_SQL_ACCESS.has(type)) throw err;
      sqlRefusal = type;
      break;
    }
  }
  const asUser = connectAsUser();
  try {
    const problems = await verifyQueryUser(admin, asUser, spec);
    const declared = sqlRefusal !== null;
    return { via: declared ? 'declared' : 'sql', problems, usersXml: declared && problems.length > 0 ? queryUserXml(spec) : null, sqlRefusal };
  } finally {
    await asUser.close();
  }
}
