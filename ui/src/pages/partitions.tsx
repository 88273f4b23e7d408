import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, data } from '../api/client';
import { useCan } from '../api/me';
import { followEvents } from '../api/run-events';
import { ErrorNote } from '../components/error-note';

/** What a grid cell says: the step's own status, or why it did not run. */
type CellState = 'succeeded' | 'failed' | 'blocked' | 'no_data' | 'missing' | 'running' | 'pending' | 'skipped' | 'cancelled';

const STATES: CellState[] = ['succeeded', 'failed', 'blocked', 'no_data', 'running', 'pending', 'skipped', 'cancelled', 'missing'];
const WORD: Record<CellState, string> = {
  succeeded: 'succeeded', failed: 'failed', blocked: 'blocked by a failing check', no_data: 'no data', missing: 'missing',
  running: 'running', pending: 'pending', skipped: 'skipped', cancelled: 'cancelled',
};

function cellState(step: { status: string; reason: string | null } | undefined): CellState {
  if (!step) return 'missing';
  const reason = step.reason ?? '';
  if (step.status === 'succeeded') return reason.startsWith('check ') ? 'blocked' : 'succeeded';
  if (step.status === 'skipped') return reason.startsWith('blocked:') ? 'blocked' : reason.endsWith('had no data') ? 'no_data' : 'skipped';
  if (step.status === 'retrying') return 'running';
  return STATES.includes(step.status as CellState) ? (step.status as CellState) : 'pending';
}

/** A partition's overall state, for the summary bar: the worst of its steps. */
const WORST: CellState[] = ['failed', 'blocked', 'running', 'pending', 'cancelled', 'skipped', 'no_data', 'succeeded', 'missing'];

/**
 * The partition health grid: partition keys × steps, each cell coloured by the latest run of
 * that key (Dagster's, with blocked-by-check and no-data told apart), a summary bar in
 * proportion to the states, and a range to backfill.
 */
export function PartitionsPage() {
  const { name = '' } = useParams();
  const navigate = useNavigate();
  const canEdit = useCan('edit');
  const queryClient = useQueryClient();
  // The range shown is in the URL (?from=&to=), so a view of a month of keys is a link.
  const [search, setSearch] = useSearchParams();
  const from = search.get('from') ?? undefined;
  const to = search.get('to') ?? undefined;
  const grid = useQuery({
    queryKey: ['partitions', name, from, to],
    queryFn: () => data(api.GET('/api/v1/pipelines/{name}/partitions', { params: { path: { name }, query: { ...(from ? { from } : {}), ...(to ? { to } : {}) } } })),
  });
  useEffect(() => {
    const abort = new AbortController();
    void followEvents('/api/v1/events', (batch) => {
      if (batch.some((e) => e.type.startsWith('run.') || e.type.startsWith('step.'))) {
        void queryClient.invalidateQueries({ queryKey: ['partitions', name] });
        void queryClient.invalidateQueries({ queryKey: ['backfill'] });
      }
    }, abort.signal);
    return () => abort.abort();
  }, [name, queryClient]);
  const [range, setRange] = useState<{ from: string; to: string } | null>(null);
  const [anchor, setAnchor] = useState<string | null>(null);
  const backfill = useMutation({
    mutationFn: (r: { from: string; to: string }) => data(api.POST('/api/v1/backfills', { body: { pipeline: name, from: r.from, to: r.to } })),
  });
  const backfillId = backfill.data?.id;
  const progress = useQuery({
    queryKey: ['backfill', backfillId],
    enabled: backfillId !== undefined,
    queryFn: () => data(api.GET('/api/v1/backfills/{id}', { params: { path: { id: backfillId! } } })),
  });
  const byKey = useMemo(() => new Map(grid.data?.items.map((i) => [i.partition, i]) ?? []), [grid.data]);
  if (grid.error) return <ErrorNote error={grid.error} />;
  if (!grid.data) return <p>Loading partitions…</p>;
  const { keys, steps } = grid.data;
  const overall = (key: string): CellState => {
    const item = byKey.get(key);
    if (!item) return 'missing';
    const states = steps.map((s) => cellState(item.steps.find((x) => x.step === s)));
    return WORST.find((w) => states.includes(w)) ?? 'missing';
  };
  const tally = new Map<CellState, number>();
  for (const k of keys) tally.set(overall(k), (tally.get(overall(k)) ?? 0) + 1);
  const pick = (key: string, extend: boolean) => {
    if (extend && anchor) setRange(anchor <= key ? { from: anchor, to: key } : { from: key, to: anchor });
    else {
      setAnchor(key);
      setRange({ from: key, to: key });
    }
  };
  const inRange = (k: string) => range !== null && k >= range.from && k <= range.to;
  return (
    <section>
      <header className="page-header">
        <h1>Partitions of {name}</h1>
        <Link to={`/pipelines/${encodeURIComponent(name)}`}>Pipeline {name}</Link>
      </header>
      <form className="filters" aria-label="keys shown" onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        setSearch({ from: String(f.get('from') ?? ''), to: String(f.get('to') ?? '') });
      }}>
        <label>From <input name="from" defaultValue={grid.data.from} key={`f${grid.data.from}`} size={10} /></label>
        <label>To <input name="to" defaultValue={grid.data.to} key={`t${grid.data.to}`} size={10} /></label>
        <button type="submit">Show</button>
        <span className="hint">{grid.data.keys.length} {grid.data.granularity} keys (at most 400). Click a key to select it, shift-click another to select the range between; click a cell to open its run.</span>
      </form>
      <div className="summary-bar" role="img" aria-label={`partition summary: ${STATES.filter((s) => tally.get(s)).map((s) => `${tally.get(s)} ${WORD[s]}`).join(', ')}`}>
        {STATES.filter((s) => tally.get(s)).map((s) => <span key={s} className={`cell-${s}`} style={{ flexGrow: tally.get(s) }} title={`${tally.get(s)} ${WORD[s]}`} />)}
      </div>
      <ul className="legend">
        {STATES.filter((s) => tally.get(s)).map((s) => <li key={s}><span className={`swatch cell-${s}`} /> {WORD[s]} ({tally.get(s)})</li>)}
      </ul>
      {canEdit ? (
        <div className="actions">
          <span>{range ? `Selected ${range.from} … ${range.to}` : 'No range selected'}</span>
          <button type="button" disabled={!range || backfill.isPending} onClick={() => range && backfill.mutate(range)}>Launch backfill</button>
          {progress.data ? (
            <span role="status" aria-label="backfill progress">
              Backfill {progress.data.id.slice(0, 8)} {progress.data.status}: {progress.data.counts.succeeded} succeeded, {progress.data.counts.noData} no data,{' '}
              {progress.data.counts.failed} failed, {progress.data.counts.pending} pending
            </span>
          ) : null}
          {backfill.error ? <ErrorNote error={backfill.error} /> : null}
        </div>
      ) : null}
      <div className="grid-scroll" tabIndex={0} role="region" aria-label="scrollable table">
        <table className="grid" aria-label="partitions">
          <thead>
            <tr><th scope="col">Partition</th>{steps.map((s) => <th scope="col" key={s}>{s}</th>)}</tr>
          </thead>
          <tbody>
            {keys.map((k) => {
              const item = byKey.get(k);
              return (
                <tr key={k} className={inRange(k) ? 'selected' : undefined}>
                  <th scope="row">
                    <button type="button" className="link" aria-pressed={inRange(k)} onClick={(e) => pick(k, e.shiftKey)}>{k}</button>
                  </th>
                  {steps.map((s) => {
                    const st = item?.steps.find((x) => x.step === s);
                    const state = cellState(st);
                    const label = `${k} ${s}: ${WORD[state]}`;
                    return (
                      <td key={s} className={`cell cell-${state}`}>
                        {item ? (
                          <button type="button" aria-label={label} title={`${label}${st?.reason ? ` — ${st.reason}` : ''} (run ${item.runId.slice(0, 8)}, ${new Date(item.updatedAt).toLocaleString()})`} onClick={() => navigate(`/runs/${item.runId}`)} />
                        ) : <span role="img" aria-label={label} title={label} />}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
