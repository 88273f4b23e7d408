import { lazy, Suspense, useMemo, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiError, data } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { RequireRole } from '../components/require-role';
import { downloadCsv, RowTable } from '../components/row-table';

const SqlEditor = lazy(() => import('../components/sql-editor'));

const HISTORY_KEY = 'sluice.sql.history';
const MAX_HISTORY = 30;
const SCHEMA_SQL = "SELECT database, table, name, type FROM system.columns WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') ORDER BY database, table, position";

const readHistory = (): string[] => {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_HISTORY) : [];
  } catch {
    return [];
  }
};

/** SQL on the warehouse through the API's guarded query endpoint (edit role): schema browser, editor, results, CSV, history. */
export function SqlPage() {
  return (
    <section>
      <h1>SQL</h1>
      <RequireRole role="edit" what="Running SQL">
        <SqlWorkbench />
      </RequireRole>
    </section>
  );
}

function SqlWorkbench() {
  const [text, setText] = useState('SELECT day, lines, missing_customer_id_ratio\nFROM quality.data_quality\nORDER BY day');
  const [past, setPast] = useState<string[]>(readHistory);
  const schema = useQuery({ queryKey: ['sql-schema'], queryFn: () => data(api.POST('/api/v1/query', { body: { sql: SCHEMA_SQL } })), staleTime: 60_000 });
  const tables = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const r of schema.data?.rows ?? []) (out[`${String(r.database)}.${String(r.table)}`] ??= []).push(String(r.name));
    return out;
  }, [schema.data]);
  const run = useMutation({
    mutationFn: (q: string) => data(api.POST('/api/v1/query', { body: { sql: q } })),
    onSuccess: (_r, q) => {
      const next = [q, ...past.filter((p) => p !== q)].slice(0, MAX_HISTORY);
      setPast(next);
      localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
    },
  });
  const result = run.data;
  const columns = result?.columns ?? [];
  const position = run.error instanceof ApiError ? run.error.problem.position : undefined;
  const download = () => {
    if (result) downloadCsv('query.csv', columns.map((c) => c.name), result.rows);
  };
  return (
    <div className="sql">
      <aside className="schema" aria-label="warehouse schema">
        <h2>Schema</h2>
        {schema.error ? <ErrorNote error={schema.error} /> : null}
        {Object.entries(tables).map(([t, cols]) => (
          <details key={t}>
            <summary>{t}</summary>
            <ul>{cols.map((c) => <li key={c}><button type="button" className="link" onClick={() => setText(`${text}${text.endsWith(' ') || text.endsWith('\n') ? '' : ' '}${c}`)}>{c}</button> <span className="hint">{String(schema.data?.rows.find((r) => `${String(r.database)}.${String(r.table)}` === t && r.name === c)?.type ?? '')}</span></li>)}</ul>
          </details>
        ))}
      </aside>
      <div className="sql-main">
        <Suspense fallback={<p>Loading editor…</p>}>
          <SqlEditor value={text} onChange={setText} onRun={() => run.mutate(text)} tables={tables} />
        </Suspense>
        <div className="actions">
          <button type="button" onClick={() => run.mutate(text)} disabled={run.isPending}>Run query</button>
          <span className="hint">Ctrl-Enter runs. Read-only; limits apply.</span>
          {result ? <button type="button" onClick={download}>Download CSV</button> : null}
          {past.length > 0 ? (
            <label>History{' '}
              <select value="" onChange={(e) => e.target.value && setText(e.target.value)}>
                <option value="">{past.length} recent</option>
                {past.map((p) => <option key={p} value={p}>{p.replace(/\s+/g, ' ').slice(0, 80)}</option>)}
              </select>
            </label>
          ) : null}
        </div>
        {run.error ? (
          <div>
            <ErrorNote error={run.error} />
            {position !== undefined ? <pre className="stack" aria-label="error position">{text.slice(0, position)}⟦here⟧{text.slice(position)}</pre> : null}
          </div>
        ) : null}
        {result ? (
          <>
            <p role="status" aria-label="query result">{result.rows.length.toLocaleString()} row{result.rows.length === 1 ? '' : 's'}{result.truncated ? ' (truncated by the limits)' : ''} in {result.elapsedMs} ms</p>
            <RowTable label="query rows" columns={columns} rows={result.rows} />
          </>
        ) : null}
      </div>
    </div>
  );
}
