import { QueryRefusedError } from '../../core/query-errors.ts';
import { nameOf, walk, type AstNode } from './explain-tree.ts';
import { EXPLAIN_KINDS, SELECT_NODES, deniedFunction, deniedTable, TABLE_FUNCTIONS, tableFunctionRule } from './query-policy.ts';

export type StatementKind = 'select' | 'show' | 'describe' | 'explain';

export interface Scope {
  readonly databases: ReadonlySet<string>;
  /** Every table function the engine knows, lower case. */
  readonly tableFunctions: ReadonlySet<string>;
}

const ALLOWED = 'the endpoint runs one SELECT / WITH, SHOW TABLES, SHOW DATABASES, SHOW CREATE TABLE, DESCRIBE TABLE or EXPLAIN statement';

const refuse = (rule: string): never => {
  throw new QueryRefusedError(rule);
};

function checkTable(qualified: string, scope: Scope, what = 'table'): void {
  const dot = qualified.indexOf('.');
  if (dot === -1) return; // unqualified: resolved by the query tree, or refused by the caller
  const why = deniedTable(qualified.slice(0, dot), qualified.slice(dot + 1), scope.databases);
  if (why) refuse(`${what} ${qualified}: ${why}`);
}

/** Refuses any node of a SELECT that is not proven read-only and inside the scope. */
export function checkSelect(root: AstNode, scope: Scope): void {
  for (const { node, parent } of walk(root)) {
    if (node.type === 'Set') refuse('SETTINGS clauses are not allowed (the endpoint sets its own limits)');
    if (!SELECT_NODES.has(node.type)) refuse(`${node.type} is not part of a read-only SELECT; ${ALLOWED}`);
    if (node.type === 'SelectWithUnionQuery' && node.children.length !== 1) refuse('INTO OUTFILE and FORMAT are not allowed (the endpoint returns JSON rows)');
    if (node.type === 'Function') {
      const name = nameOf(node);
      if (parent?.type === 'TableExpression') {
        if (!TABLE_FUNCTIONS.has(name)) refuse(tableFunctionRule(name));
      } else {
        const why = deniedFunction(name, scope.tableFunctions);
        if (why) refuse(why);
      }
    }
    if (node.type === 'TableIdentifier') checkTable(nameOf(node), scope);
  }
}

/**
 * Decides from the engine's parse what a statement is, and refuses it unless it is one
 * of the read-only kinds over the scope. `formatted` is the engine's canonical text of
 * the same statement (from `formatQuery`), whose leading keywords tell SHOW forms apart
 * where the AST does not.
 */
export function checkStatement(root: AstNode, formatted: string, scope: Scope): StatementKind {
  switch (root.type) {
    case 'SelectWithUnionQuery':
    case 'SelectIntersectExceptQuery':
      checkSelect(root, scope);
      return 'select';
    case 'Explain': {
      if (!EXPLAIN_KINDS.has(root.detail)) refuse(`${root.detail} is not allowed; allowed: ${[...EXPLAIN_KINDS].join(', ')}`);
      const inner = root.children;
      if (inner.length !== 1 || inner[0].type !== 'SelectWithUnionQuery') refuse(`EXPLAIN options and EXPLAIN of anything but a SELECT are not allowed`);
      checkSelect(inner[0], scope);
      return 'explain';
    }
    case 'ShowTables': {
      const head = formatted.split('\n')[0];
      if (!/^SHOW (TABLES|DATABASES)( |$)/.test(head)) refuse(`${head.split(' ').slice(0, 2).join(' ')} is not allowed; ${ALLOWED}`);
      for (const c of root.children) {
        if (c.type === 'Identifier') {
          if (!scope.databases.has(c.detail)) refuse(`database ${c.detail} is not readable here; readable databases: ${[...scope.databases].sort().join(', ')}`);
        } else if (c.type !== 'Literal') refuse(`${c.type} in SHOW is not allowed`);
      }
      return 'show';
    }
    case 'ShowCreateTableQuery': {
      const [db, table] = root.children;
      if (root.children.length !== 2 || db.type !== 'Identifier' || table.type !== 'Identifier') refuse('SHOW CREATE TABLE needs a table named with its database, e.g. marts.fact_sales');
      checkTable(`${db.detail}.${table.detail}`, scope);
      return 'show';
    }
    case 'DescribeQuery': {
      const target = root.children[0]?.children[0];
      const name = target?.type === 'TableIdentifier' ? nameOf(target) : '';
      if (root.children.length !== 1 || !name.includes('.')) refuse('DESCRIBE needs a table named with its database, e.g. DESCRIBE TABLE marts.fact_sales');
      checkTable(name, scope);
      return 'describe';
    }
    default:
      return refuse(`${root.type} statements are not allowed; ${ALLOWED}`);
  }
}
