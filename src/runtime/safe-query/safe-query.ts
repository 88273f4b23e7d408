import { CancelledError } from '../../core/errors.ts';
import { QueryBusyError, QueryLimitError, QueryRefusedError } from '../../core/query-errors.ts';
import type { Warehouse } from '../../ports/warehouse.ts';
import { checkQueryTree } from './check-query-tree.ts';
import { checkStatement, type StatementKind } from './check-statement.ts';
import { parseExplainAst } from './explain-tree.ts';
import { limitsSettings } from './limits-settings.ts';
import { DEFAULT_QUERY_LIMITS, PIPELINE_DATABASES, type QueryLimits } from './query-policy.ts';
import { engineFailure } from './engine-failure.ts';

export interface SafeQueryResult {
  readonly rows: Record<string, unknown>[];
  /** The result's columns with their engine types, in order (for SHOW and EXPLAIN, as text). */
  readonly columns: { name: string; type: string }[];
  /** True when rows were cut at the row or byte limit. */
  readonly truncated: boolean;
  readonly statement: StatementKind;
  readonly elapsedMs: number;
}

export interface SafeQueryOptions {
  /**
   * Opens one connection for untrusted statements. Each running statement holds its own,
   * up to `limits.maxConcurrent`, so a slow one never queues behind another, nor behind
   * the pipelines' connection (chDB runs one statement per session at a time).
   */
  readonly connect: () => Warehouse;
  readonly limits?: Partial<QueryLimits>;
  /** Databases pipelines declare, beyond the standard five; asked on every call so reloads count. */
  readonly databases?: () => Iterable<string>;
}

interface EngineFacts {
  readonly readonly: number;
  readonly tableFunctions: ReadonlySet<string>;
}

// How long past the engine's own limit the client waits before it gives up on the answer.
const CLIENT_GRACE_MS = 2_000;

/**
 * Runs one untrusted, read-only statement on the warehouse. What the statement is comes
 * from the engine's own parser: `formatQuery` (bound as a parameter, so the text is never
 * executed) proves it is a single statement, `EXPLAIN AST` shows its parts, and for a
 * SELECT `EXPLAIN QUERY TREE` shows every table it resolves to. Anything not proven
 * read-only and inside the pipeline databases is refused. It then runs with time, memory,
 * row and byte limits and `readonly = 1`, and the client stops waiting shortly after the
 * time limit whatever the engine does.
 *
 * @example
 * const q = new SafeQuery({ connect: () => createChdbWarehouse({ path }), limits: { timeoutMs: 10_000 } });
 * const { rows, truncated } = await q.run('SELECT count() AS n FROM marts.fact_sales');
 */
export class SafeQuery {
  readonly limits: QueryLimits;
  readonly #connect: () => Warehouse;
  readonly #databases: () => Iterable<string>;
  readonly #idle: Warehouse[] = [];
  readonly #all: Warehouse[] = [];
  readonly #byCaller = new Map<string, number>();
  #facts: Promise<EngineFacts> | null = null;

  constructor(options: SafeQueryOptions) {
    this.#connect = options.connect;
    this.limits = Object.freeze({ ...DEFAULT_QUERY_LIMITS, ...options.limits });
    this.#databases = options.databases ?? (() => []);
  }

  /**
   * Runs `sql` for `caller` (a token name; one caller may hold at most half of the slots,
   * so one user's slow queries leave room for the others).
   */
  async run(sql: string, options: { signal?: AbortSignal; caller?: string } = {}): Promise<SafeQueryResult> {
    const caller = options.caller ?? '';
    const mine = this.#byCaller.get(caller) ?? 0;
    const perCaller = Math.max(1, Math.ceil(this.limits.maxConcurrent / 2));
    // Busy connections, not waiting callers, are what is counted: a statement the caller
    // gave up on still holds its connection until the engine ends it.
    const busy = this.#all.length - this.#idle.length;
    if (busy >= this.limits.maxConcurrent || mine >= perCaller) {
      throw new QueryBusyError(`${busy} queries are running (at most ${this.limits.maxConcurrent}, ${perCaller} per caller); retry in a moment`);
    }
    this.#byCaller.set(caller, mine + 1);
    const wh = this.#idle.pop() ?? this.#open();
    const started = Date.now();
    const deadline = AbortSignal.any([AbortSignal.timeout(this.limits.timeoutMs + CLIENT_GRACE_MS), ...(options.signal ? [options.signal] : [])]);
    const work = this.#run(wh, sql, deadline);
    // The connection goes back only once its statement has really ended, even when the
    // caller stopped waiting for it.
    void work.then(() => this.#idle.push(wh), () => this.#idle.push(wh));
    try {
      const result = await untilAborted(work, deadline, this.limits.timeoutMs);
      return { ...result, elapsedMs: Date.now() - started };
    } finally {
      const left = (this.#byCaller.get(caller) ?? 1) - 1;
      if (left === 0) this.#byCaller.delete(caller);
      else this.#byCaller.set(caller, left);
    }
  }

  /** Closes every connection this opened. */
  async close(): Promise<void> {
    const all = this.#all.splice(0);
    this.#idle.length = 0;
    for (const wh of all) await wh.close();
  }

  #open(): Warehouse {
    const wh = this.#connect();
    this.#all.push(wh);
    return wh;
  }

  async #run(wh: Warehouse, sql: string, signal: AbortSignal): Promise<Omit<SafeQueryResult, 'elapsedMs'>> {
    const opts = { signal };
    const databases = new Set<string>([...PIPELINE_DATABASES, ...this.#databases()]);
    const facts = await this.#engine(() => this.#engineFacts(wh));
    const scope = { databases, tableFunctions: facts.tableFunctions };
    const formatted = await this.#engine(async () => {
      const [r] = await wh.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: sql }, opts);
      return r.f;
    });
    const ast = parseExplainAst(await this.#engine(() => wh.explain(`EXPLAIN AST ${formatted}`, undefined, opts)));
    const statement = checkStatement(ast, formatted, scope);
    const settings = limitsSettings(this.limits, facts.readonly);
    let select: string | null = statement === 'select' ? formatted : null;
    if (statement === 'explain') {
      // The explained SELECT is the canonical text after the EXPLAIN line; prove it is the
      // same tree the engine explained before resolving its tables.
      select = formatted.slice(formatted.indexOf('\n') + 1);
      const again = parseExplainAst(await this.#engine(() => wh.explain(`EXPLAIN AST ${select}`, undefined, opts)));
      if (JSON.stringify(again) !== JSON.stringify(ast.children[0])) throw new QueryRefusedError('the explained statement could not be isolated');
    }
    if (select !== null) {
      const tree = await this.#engine(() => wh.explain(`EXPLAIN QUERY TREE ${select}\nSETTINGS ${settings}`, undefined, opts));
      checkQueryTree(tree, databases);
    }
    const rows = await this.#engine(() => wh.query<Record<string, unknown>>(`${formatted}\nSETTINGS ${settings}`, undefined, opts));
    return { ...this.#bound(rows), columns: await this.#columns(wh, statement === 'select' ? formatted : null, rows, settings, signal), statement };
  }

  /**
   * The result's columns: for a SELECT, DESCRIBE of the proven statement types them without
   * running it again; else (or if the engine cannot describe it) the names of the first row.
   */
  async #columns(wh: Warehouse, select: string | null, rows: Record<string, unknown>[], settings: string, signal: AbortSignal): Promise<{ name: string; type: string }[]> {
    const untyped = Object.keys(rows[0] ?? {}).map((name) => ({ name, type: select === null ? 'String' : '' }));
    if (select === null) return untyped;
    try {
      const described = await wh.query<{ name: string; type: string }>(`DESCRIBE TABLE (${select})\nSETTINGS ${settings}`, undefined, { signal });
      return described.map((c) => ({ name: c.name, type: c.type }));
    } catch {
      return untyped;
    }
  }

  #bound(rows: Record<string, unknown>[]): { rows: Record<string, unknown>[]; truncated: boolean } {
    let truncated = rows.length > this.limits.maxRows;
    const kept = truncated ? rows.slice(0, this.limits.maxRows) : rows;
    let bytes = 2;
    for (let i = 0; i < kept.length; i += 1) {
      bytes += JSON.stringify(kept[i]).length + 1;
      if (bytes > this.limits.maxBytes) {
        kept.length = i;
        truncated = true;
        break;
      }
    }
    return { rows: kept, truncated };
  }

  /**
   * What the checks need to know of the engine, asked once per SafeQuery in one statement:
   * every table function it has (lower case), and the `readonly` a connection starts with
   * (2 for a server's read-only user, by its profile; 0 for chDB). A failed answer is asked again.
   */
  async #engineFacts(wh: Warehouse): Promise<EngineFacts> {
    this.#facts ??= wh
      .query<{ r: unknown; tf: string[] }>("SELECT getSetting('readonly') AS r, (SELECT groupArray(name) FROM system.table_functions) AS tf")
      .then(([row]) => ({ readonly: Number(row?.r ?? 0), tableFunctions: new Set((row?.tf ?? []).map((n) => n.toLowerCase())) }))
      .catch((err) => {
        this.#facts = null;
        throw err;
      });
    return this.#facts;
  }

  async #engine<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof QueryRefusedError) throw err;
      throw engineFailure(err, this.limits);
    }
  }
}

/** Settles with the work or, when the deadline fires first, with a limit error: the caller never waits on a stuck engine. */
function untilAborted<T>(work: Promise<T>, deadline: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      const reason: unknown = deadline.reason;
      reject(reason instanceof DOMException && reason.name === 'TimeoutError'
        ? new QueryLimitError(`query ran past the ${timeoutMs / 1000} s limit`)
        : new CancelledError('query cancelled'));
    };
    if (deadline.aborted) return onAbort();
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}
