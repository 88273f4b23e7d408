/**
 * What the query endpoint lets an untrusted statement touch. Everything here is an
 * allowlist except scalar functions, where the engine has about 1,500 and the dangerous
 * ones are few and named below; table functions are read from the engine itself, so a
 * new one in a later ClickHouse is refused until it is listed here.
 */

/** Databases every deployment has; pipelines add the databases of the assets they declare. */
export const PIPELINE_DATABASES = ['raw', 'staging', 'vault', 'marts', 'quality'] as const;

/** Tables of `system` that hold names, types and sizes, never settings, users, grants or queries. */
export const SYSTEM_TABLES = new Set([
  'one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'tables', 'columns', 'databases', 'functions',
  'data_type_families', 'time_zones', 'parts',
]);

/** Table functions that generate rows and reach nothing outside the query. */
export const TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateSeries', 'values']);

/** Scalar functions that read files, dictionaries, server config or other hosts (lower case). */
const DENIED_FUNCTIONS = new Set([
  'file', 'joinget', 'joingetornull', 'catboostevaluate', 'modelevaluate', 'naivebayesclassifier',
  'getserversetting', 'getmergetreesetting', 'getclienthttpheader', 'getmacro', 'showcertificate',
  'hascolumnintable', 'demangle', 'logtrace',
]);
const DENIED_PREFIXES = ['dict', 'filesystem', 'addressto', 'trace'];

/** Why a scalar function is refused, or null when it may run. */
export function deniedFunction(name: string, tableFunctions: ReadonlySet<string>): string | null {
  const lower = name.toLowerCase();
  if (DENIED_FUNCTIONS.has(lower) || DENIED_PREFIXES.some((p) => lower.startsWith(p))) {
    return `function ${name}() reads files, dictionaries, server settings or other hosts`;
  }
  // A table function in an expression (`x IN url(...)`) is still a table function.
  if (tableFunctions.has(lower) && !TABLE_FUNCTIONS.has(name)) return tableFunctionRule(name);
  return null;
}

export const tableFunctionRule = (name: string): string =>
  `table function ${name}() is not allowed; allowed table functions: ${[...TABLE_FUNCTIONS].join(', ')}`;

/** Why a table may not be read, or null when it may. */
export function deniedTable(database: string, table: string, databases: ReadonlySet<string>): string | null {
  if (databases.has(database)) return null;
  if (database === 'system') {
    return SYSTEM_TABLES.has(table) ? null : `system.${table} is not readable here; readable system tables: ${[...SYSTEM_TABLES].join(', ')}`;
  }
  return `database ${database} is not readable here; readable databases: ${[...databases].sort().join(', ')} and system (${[...SYSTEM_TABLES].join(', ')})`;
}

/** Node classes of `EXPLAIN AST` a read-only SELECT is made of. Any other class is refused. */
export const SELECT_NODES = new Set([
  'SelectWithUnionQuery', 'SelectIntersectExceptQuery', 'SelectQuery', 'ExpressionList', 'Identifier', 'Function', 'Literal',
  'TablesInSelectQuery', 'TablesInSelectQueryElement', 'TableExpression', 'TableIdentifier', 'TableJoin', 'ArrayJoin',
  'Subquery', 'WithElement', 'OrderByElement', 'WindowDefinition', 'WindowListElement', 'InterpolateElement', 'SampleRatio',
  'Asterisk', 'QualifiedAsterisk', 'ColumnsRegexpMatcher', 'ColumnsListMatcher', 'QualifiedColumnsRegexpMatcher',
  'QualifiedColumnsListMatcher', 'ColumnsTransformerList', 'ColumnsExceptTransformer', 'ColumnsApplyTransformer',
  'ColumnsReplaceTransformer', 'ColumnsReplaceTransformer::Replacement',
]);

/** `EXPLAIN` kinds that describe a query without running it. */
export const EXPLAIN_KINDS = new Set(['EXPLAIN', 'EXPLAIN PLAN', 'EXPLAIN PIPELINE', 'EXPLAIN SYNTAX', 'EXPLAIN QUERY TREE', 'EXPLAIN ESTIMATE', 'EXPLAIN AST']);

/** The limits every statement runs under; see `QueryLimits` in the config. */
export interface QueryLimits {
  /** Engine-side `max_execution_time`, and the client gives up shortly after. */
  readonly timeoutMs: number;
  readonly maxRows: number;
  /** Of the JSON the endpoint returns. */
  readonly maxBytes: number;
  /** Engine-side `max_memory_usage` of one query; big sorts and group-bys spill to disk at half of it. */
  readonly maxMemoryBytes: number;
  /** Statements running at once; more are refused with 429 so a burst cannot starve the engine's threads. */
  readonly maxConcurrent: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = Object.freeze({
  timeoutMs: 30_000, maxRows: 10_000, maxBytes: 16 << 20, maxMemoryBytes: 2 ** 30, maxConcurrent: 4,
});
