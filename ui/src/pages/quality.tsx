import { useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { assetPath, useAssets } from '../api/assets';
import { api, data } from '../api/client';
import { CheckHistory, FiguresPerPartition } from '../components/asset-charts';
import { ErrorNote } from '../components/error-note';
import { downloadCsv, RowTable, type Row } from '../components/row-table';
import { when } from '../components/status';

const PAGE = 200;
/** The most rows a CSV download reads (the API's page limit times ten). */
const MAX_CSV_ROWS = 10_000;

/** Data quality at a glance: checks over partitions, the quality tables charted per day, the gauges, and the rows set aside. */
export function QualityPage() {
  const assets = useAssets();
  const items = assets.data?.items ?? [];
  const checked = items.filter((a) => a.checks.length > 0);
  const figures = items.filter((a) => a.kind === 'quality');
  const quarantines = items.filter((a) => a.kind === 'quarantine');
  return (
    <section>
      <h1>Quality</h1>
      {assets.error ? <ErrorNote error={assets.error} /> : null}
      <h2>Checks</h2>
      {checked.length === 0 && assets.data ? <p>No asset declares a check.</p> : null}
      {checked.map((a) => (
        <div key={a.name}>
          <p><Link to={assetPath(a.name)}>{a.name}</Link> <span className="hint">{a.pipeline} / {a.step}</span></p>
          <CheckHistory asset={a.name} />
        </div>
      ))}
      {figures.map((a) => (
        <div key={a.name}>
          <h2>{a.name} per day</h2>
          {a.description ? <p className="hint">{a.description}</p> : null}
          <FiguresPerPartition asset={a.name} />
        </div>
      ))}
      <h2>Gauges</h2>
      <Gauges />
      {quarantines.map((a) => <Quarantine key={a.name} asset={a.name} />)}
    </section>
  );
}

function Gauges() {
  const gauges = useQuery({ queryKey: ['gauges'], queryFn: () => data(api.GET('/api/v1/gauges')) });
  const shown = (gauges.data?.items ?? []).filter((g) => g.kind === 'gauge');
  if (gauges.error) return <ErrorNote error={gauges.error} />;
  if (gauges.data && shown.length === 0) return <p>No pipeline has set a gauge yet.</p>;
  return (
    <table aria-label="gauges">
      <thead><tr><th>Gauge</th><th>Labels</th><th>Value</th><th>Updated</th><th>Help</th></tr></thead>
      <tbody>
        {shown.map((g) => (
          <tr key={`${g.name}${JSON.stringify(g.labels)}`}>
            <td><code>{g.name}</code></td>
            <td>{Object.entries(g.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</td>
            <td>{g.value.toLocaleString()}</td><td>{when(g.updatedAt)}</td><td>{g.help}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The quarantine browser: rows that could not be read, filtered by any text (a run id, a file, a reason), a page at a time, as CSV. */
function Quarantine({ asset }: { asset: string }) {
  const [search, setSearch] = useSearchParams();
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const [csvError, setCsvError] = useState<unknown>(null);
  const rows = useInfiniteQuery({
    queryKey: ['asset', asset, 'rows', q],
    initialPageParam: 0,
    queryFn: ({ pageParam }) => data(api.GET('/api/v1/assets/{name}/rows', {
      params: { path: { name: asset }, query: { limit: PAGE, offset: pageParam, ...(q ? { q } : {}) } },
    })),
    getNextPageParam: (last, pages) => {
      const read = pages.reduce((n, p) => n + p.rows.length, 0);
      return read < last.total && last.rows.length > 0 ? read : undefined;
    },
  });
  const list: Row[] = rows.data?.pages.flatMap((p) => p.rows) ?? [];
  const first = rows.data?.pages[0];
  const csv = async () => {
    setCsvError(null);
    try {
      const all: Row[] = [];
      while (all.length < Math.min(first?.total ?? 0, MAX_CSV_ROWS)) {
        const page = await data(api.GET('/api/v1/assets/{name}/rows', { params: { path: { name: asset }, query: { limit: 1000, offset: all.length, ...(q ? { q } : {}) } } }));
        if (page.rows.length === 0) break;
        all.push(...page.rows);
      }
      downloadCsv(`${asset}.csv`, (first?.columns ?? []).map((c) => c.name), all);
    } catch (err) {
      setCsvError(err);
    }
  };
  return (
    <>
      <h2 id="quarantine">Quarantine: {asset}</h2>
      <form className="filters" role="search" onSubmit={(e) => { e.preventDefault(); setSearch(text ? { q: text } : {}, { replace: true }); }}>
        <label>Filter <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="run id, file, reason, text…" /></label>
        <button type="submit">Filter</button>
        {first ? <span role="status" aria-label="quarantined rows">{first.total.toLocaleString()} row{first.total === 1 ? '' : 's'}{q ? ` matching “${q}”` : ''}</span> : null}
        {first && first.total > 0 ? <button type="button" onClick={() => void csv()}>Download CSV</button> : null}
        {first && first.total > MAX_CSV_ROWS ? <span className="hint">(the CSV holds the first {MAX_CSV_ROWS.toLocaleString()})</span> : null}
      </form>
      {rows.error ? <ErrorNote error={rows.error} /> : null}
      {csvError ? <ErrorNote error={csvError} /> : null}
      {first ? (
        <RowTable label="quarantined rows" columns={first.columns} rows={list}
          onEnd={rows.hasNextPage && !rows.isFetchingNextPage ? () => void rows.fetchNextPage() : undefined} />
      ) : <p>Loading…</p>}
    </>
  );
}
