import { ValidationError } from '../core/errors.ts';
import type { QueryUserSpec } from '../runtime/query-user/query-user-spec.ts';
import { PIPELINE_DATABASES, SYSTEM_TABLES } from '../runtime/safe-query/query-policy.ts';
import type { SluiceConfig } from './config.ts';

// A name that is a SQL identifier after quoting and a users.xml element as it is.
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const EXAMPLE = 'e.g. http://sluice_query:<password>@clickhouse:8123';

/**
 * The query endpoint's read-only user as the config names it: user and password are the
 * credentials of `warehouse.queryUrl`, so the endpoint and `sluice migrate` cannot disagree.
 * Null when there is no ClickHouse server or no queryUrl. It must be another user than the
 * one of `warehouse.url`: migrating would make the pipelines' own user read-only.
 *
 * @example
 * const spec = queryUserOf(config, registry.databases());
 */
export function queryUserOf(config: SluiceConfig, pipelineDatabases: Iterable<string>): QueryUserSpec | null {
  const wh = config.warehouse;
  if (wh.kind !== 'clickhouse' || wh.queryUrl === undefined) return null;
  const q = new URL(wh.queryUrl);
  const user = decodeURIComponent(q.username);
  const password = decodeURIComponent(q.password);
  if (user === '' || password === '') {
    throw new ValidationError(`warehouse.queryUrl must carry the read-only user and its password (${EXAMPLE})`, 'warehouse.queryUrl');
  }
  if (!USER_NAME.test(user)) {
    throw new ValidationError(`warehouse.queryUrl: user name "${user}" must be letters, digits, _ . - (starting with a letter or _)`, 'warehouse.queryUrl');
  }
  const admin = decodeURIComponent(new URL(wh.url).username) || 'default';
  if (user === admin) {
    throw new ValidationError(`warehouse.queryUrl names ${user}, the user of warehouse.url; the query endpoint needs a user of its own (${EXAMPLE})`, 'warehouse.queryUrl');
  }
  const databases = [...new Set([...PIPELINE_DATABASES, ...pipelineDatabases])].sort();
  return Object.freeze({ user, password, databases, systemTables: [...SYSTEM_TABLES].sort(), limits: config.query });
}
