import { QueryRefusedError } from '../../core/query-errors.ts';
import { deniedTable, TABLE_FUNCTIONS, tableFunctionRule } from './query-policy.ts';

// The analyzer renames every table alias to __tableN, so nothing a user writes can sit
// between `id:` and `table_name:` on these lines.
const TABLE = /^TABLE id: \d+(?:, alias: __table\d+)?, table_name: ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)(?:,|$)/;
const TABLE_FUNCTION = /^TABLE_FUNCTION id: \d+(?:, alias: __table\d+)?, table_function_name: ([A-Za-z0-9_]+)(?:,|$)/;

/**
 * Checks the tables the engine resolved (`EXPLAIN QUERY TREE`): CTEs, unqualified names
 * and `IN table` all end up as TABLE nodes with their database, so this is where a name
 * the AST left open is decided.
 */
export function checkQueryTree(lines: readonly string[], databases: ReadonlySet<string>): void {
  for (const raw of lines) {
    const line = raw.trimStart();
    if (line.startsWith('TABLE id:')) {
      const m = TABLE.exec(line);
      if (!m) throw new QueryRefusedError(`a table name the endpoint cannot prove safe: ${line.slice(0, 120)}`);
      const why = deniedTable(m[1], m[2], databases);
      if (why) throw new QueryRefusedError(`table ${m[1]}.${m[2]}: ${why}`);
    } else if (line.startsWith('TABLE_FUNCTION id:')) {
      const m = TABLE_FUNCTION.exec(line);
      if (!m || !TABLE_FUNCTIONS.has(m[1])) throw new QueryRefusedError(tableFunctionRule(m?.[1] ?? '?'));
    }
  }
}
