import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, data, type RunRecord, type RunStatus } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { duration, Status, when } from '../components/status';
import { VirtualTable, type Column } from '../components/virtual-table';

const STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'no_data', 'failed', 'cancelled'];
const RANGES = { '': 'any time', '1h': 'last hour', '24h': 'last 24 h', '7d': 'last 7 days' } as const;
const RANGE_MS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
const PAGE = 100;

type Run = RunRecord;
const COLUMNS: Column<Run>[] = [
  { key: 'id', title: 'Run', cell: (r) => <Link to={`/runs/${r.id}`}><code>{r.id.slice(0, 8)}</code></Link> },
  { key: 'pipeline', title: 'Pipeline', cell: (r) => r.pipeline },
  { key: 'partition', title: 'Partition', cell: (r) => r.partition ?? '—' },
  { key: 'status', title: 'Status', cell: (r) => <Status status={r.status} /> },
  { key: 'created', title: 'Created', cell: (r) => when(r.createdAt) },
  { key: 'duration', title: 'Duration', cell: (r) => duration(r.startedAt, r.finishedAt) },
  { key: 'error', title: 'Error', cell: (r) => <span title={r.error ?? ''}>{r.error ?? ''}</span> },
];

/** Every run, newest first, filtered by the URL's query (so a filtered list is a link), a page at a time. */
export function Runs() {
  const [search, setSearch] = useSearchParams();
  const pipeline = search.get('pipeline') ?? '';
  const status = (search.get('status') ?? '') as RunStatus | '';
  const range = (search.get('range') ?? '') as keyof typeof RANGES;
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next);
  };
  const pipelines = useQuery({ queryKey: ['pipelines'], queryFn: () => data(api.GET('/api/v1/pipelines')) });
  const runs = useInfiniteQuery({
    queryKey: ['runs', pipeline, status, range],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const createdFrom = range ? new Date(Date.now() - RANGE_MS[range]).toISOString() : undefined;
      return data(api.GET('/api/v1/runs', {
      params: { query: { limit: PAGE, ...(pipeline ? { pipeline } : {}), ...(status ? { status } : {}), ...(createdFrom ? { createdFrom } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
      }));
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = runs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Runs</h1>
      <div className="filters">
        <label>Pipeline{' '}
          <select value={pipeline} onChange={(e) => set('pipeline', e.target.value)}>
            <option value="">all</option>
            {pipelines.data?.items.map((p) => <option key={p.name}>{p.name}</option>)}
          </select>
        </label>
        <label>Status{' '}
          <select value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">all</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s === 'no_data' ? 'no data' : s}</option>)}
          </select>
        </label>
        <label>Created{' '}
          <select value={range} onChange={(e) => set('range', e.target.value)}>
            {Object.entries(RANGES).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
      </div>
      {runs.error ? <ErrorNote error={runs.error} /> : null}
      <VirtualTable
        label="runs" rows={items} rowKey={(r) => r.id} columns={COLUMNS}
        onEnd={runs.hasNextPage && !runs.isFetchingNextPage ? () => void runs.fetchNextPage() : undefined}
      />
      {runs.isPending ? <p>Loading runs…</p> : items.length === 0 ? <p>No runs match.</p> : null}
      {items.length > 0 ? <p className="hint">{items.length.toLocaleString()} runs shown{runs.hasNextPage ? '; scrolling down loads more' : ''}.</p> : null}
      {runs.hasNextPage ? <button type="button" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>Load more</button> : null}
    </section>
  );
}
