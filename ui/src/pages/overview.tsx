import { useEffect, useMemo } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, data, type RunStatus } from '../api/client';
import { followEvents } from '../api/run-events';
import { BrokenPipelines } from '../components/broken-pipelines';
import { ErrorNote } from '../components/error-note';
import { LazyChart, STATUS_COLOURS } from '../components/lazy-chart';
import { duration, Status, when } from '../components/status';

const DAY_MS = 86_400_000;
const STATUSES: RunStatus[] = ['succeeded', 'no_data', 'failed', 'cancelled', 'running', 'queued'];
const WINDOWS = { '24h': 'Last 24 hours', '7d': 'Last 7 days' } as const;
type Span = keyof typeof WINDOWS;

/** What needs a look now: runs of the last 24 h by status, what is running, what failed, what fires next, the workers. */
export function Overview() {
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const span: Span = search.get('window') === '7d' ? '7d' : '24h';
  // Counted by the store, per bucket and status: exact for any number of runs.
  const counts = useQuery({
    queryKey: ['runs', 'counts', span],
    queryFn: () => data(api.GET('/api/v1/runs/counts', { params: { query: { window: span } } })),
  });
  // The last day's newest runs, for what is running and what failed.
  const recent = useQuery({
    queryKey: ['runs', 'overview'],
    queryFn: () => data(api.GET('/api/v1/runs', { params: { query: { limit: 200, createdFrom: new Date(Date.now() - DAY_MS).toISOString() } } })),
  });
  const pipelines = useQuery({ queryKey: ['pipelines'], queryFn: () => data(api.GET('/api/v1/pipelines')) });
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: () => data(api.GET('/api/v1/schedules')) });
  const workers = useQuery({ queryKey: ['workers'], queryFn: () => data(api.GET('/api/v1/workers')) });

  // Live: a run starting or ending anywhere refreshes the lists (events arrive batched).
  useEffect(() => {
    const abort = new AbortController();
    void followEvents('/api/v1/events', (batch) => {
      if (batch.some((e) => e.type.startsWith('run.'))) void queryClient.invalidateQueries({ queryKey: ['runs'] });
    }, abort.signal);
    return () => abort.abort();
  }, [queryClient]);

  const runs = recent.data?.items ?? [];
  const totals = new Map<RunStatus, number>();
  for (const b of counts.data?.buckets ?? []) for (const [k, n] of Object.entries(b.counts)) totals.set(k as RunStatus, (totals.get(k as RunStatus) ?? 0) + (n ?? 0));
  const running = runs.filter((r) => r.status === 'running' || r.status === 'queued');
  const failures = runs.filter((r) => r.status === 'failed').slice(0, 10);
  return (
    <section>
      <h1>Overview</h1>
      {recent.error ? <ErrorNote error={recent.error} /> : null}
      {counts.error ? <ErrorNote error={counts.error} /> : null}
      <h2>
        {WINDOWS[span]}
        <span className="toggle" role="group" aria-label="time window">
          {(Object.keys(WINDOWS) as Span[]).map((w) => (
            <button key={w} type="button" aria-pressed={w === span} onClick={() => setSearch(w === '24h' ? {} : { window: w }, { replace: true })}>{w}</button>
          ))}
        </span>
      </h2>
      <ul className="counts" aria-label={`runs in the ${WINDOWS[span].toLowerCase()} by status`}>
        {STATUSES.map((s) => (
          <li key={s}>
            <Link to={`/runs?status=${s}&range=${span}`}><Status status={s} /> <b>{(totals.get(s) ?? 0).toLocaleString()}</b></Link>
          </li>
        ))}
      </ul>
      {counts.data ? <RunsChart buckets={counts.data.buckets} span={span} /> : null}

      <div className="columns">
        <div>
          <h2>Running now</h2>
          {running.length === 0 ? <p>Nothing is running.</p> : (
            <ul className="plain">
              {running.map((r) => (
                <li key={r.id}><Link to={`/runs/${r.id}`}>{r.pipeline}{r.partition ? ` [${r.partition}]` : ''}</Link> <Status status={r.status} /> {duration(r.startedAt, null)}</li>
              ))}
            </ul>
          )}
          <h2>Recent failures</h2>
          {failures.length === 0 ? <p>No failed run in the last 24 hours.</p> : (
            <ul className="plain">
              {failures.map((r) => (
                <li key={r.id}>
                  <Link to={`/runs/${r.id}`}>{r.pipeline}{r.partition ? ` [${r.partition}]` : ''}</Link> {when(r.finishedAt)}
                  <div className="error cut" title={r.error ?? ''}>{r.error}</div>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h2>Schedules</h2>
          {schedules.data?.items.length === 0 ? <p>No schedules.</p> : (
            <table aria-label="schedules">
              <thead><tr><th>Schedule</th><th>Cron</th><th>Next tick</th><th>Last tick</th></tr></thead>
              <tbody>
                {schedules.data?.items.map((s) => (
                  <tr key={`${s.pipeline}/${s.name}`}>
                    <td><Link to={`/pipelines/${encodeURIComponent(s.pipeline)}`}>{s.pipeline}</Link> / {s.name}</td>
                    <td><code>{s.cron}</code> {s.timezone}</td>
                    <td>{s.enabled ? when(s.nextTickAt) : 'disabled'}</td>
                    <td>{s.lastTick ? <Link to={`/runs/${s.lastTick.runId}`}>{s.lastTick.status} {when(s.lastTick.tickAt)}</Link> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Workers</h2>
          {workers.data?.items.length === 0 ? <p>No worker processes (runs execute in the control plane).</p> : (
            <table aria-label="workers">
              <thead><tr><th>Worker</th><th>pid</th><th>Health</th><th>Running</th><th>Restarts</th></tr></thead>
              <tbody>
                {workers.data?.items.map((w) => (
                  <tr key={w.id}>
                    <td>{w.id}</td><td>{w.pid ?? '—'}</td>
                    <td>{w.alive ? (w.ready ? 'ready' : 'starting') : 'down'}</td>
                    <td>{w.running.length}</td><td>{w.restarts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      {pipelines.data ? <BrokenPipelines broken={pipelines.data.broken} /> : null}
    </section>
  );
}

/** Runs per bucket as stacked bars, one colour per status. */
function RunsChart({ buckets, span }: { buckets: { start: string; counts: Partial<Record<RunStatus, number>> }[]; span: Span }) {
  const { x, series, total } = useMemo(() => {
    const shown = STATUSES.filter((s) => buckets.some((b) => (b.counts[s] ?? 0) > 0));
    return {
      x: buckets.map((b) => Date.parse(b.start) / 1000),
      series: shown.map((s) => ({ label: s === 'no_data' ? 'no data' : s, color: STATUS_COLOURS[s]!, values: buckets.map((b) => b.counts[s] ?? 0) })),
      total: buckets.reduce((n, b) => n + Object.values(b.counts).reduce((a, c) => a + (c ?? 0), 0), 0),
    };
  }, [buckets]);
  const per = span === '24h' ? 'hour' : '6 hours';
  return <LazyChart label={`runs per ${per} by status, ${WINDOWS[span].toLowerCase()}: ${total} in all`} x={x} series={series} kind="bars" stacked height={180} />;
}
