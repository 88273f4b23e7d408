import { useEffect } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data, type RunStatus } from '../api/client';
import { followEvents } from '../api/run-events';
import { BrokenPipelines } from '../components/broken-pipelines';
import { ErrorNote } from '../components/error-note';
import { duration, Status, when } from '../components/status';

const DAY_MS = 86_400_000;
const STATUSES: RunStatus[] = ['succeeded', 'no_data', 'failed', 'cancelled', 'running', 'queued'];

/** What needs a look now: runs of the last 24 h by status, what is running, what failed, what fires next, the workers. */
export function Overview() {
  const queryClient = useQueryClient();
  // The last day's runs, newest first: one page (the API's largest, 200) counts them.
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
  const counts = new Map<RunStatus, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const running = runs.filter((r) => r.status === 'running' || r.status === 'queued');
  const failures = runs.filter((r) => r.status === 'failed').slice(0, 10);
  return (
    <section>
      <h1>Overview</h1>
      {recent.error ? <ErrorNote error={recent.error} /> : null}
      <h2>Last 24 hours</h2>
      <ul className="counts" aria-label="runs in the last 24 hours by status">
        {STATUSES.map((s) => (
          <li key={s}>
            <Link to={`/runs?status=${s}&range=24h`}><Status status={s} /> <b>{(counts.get(s) ?? 0).toLocaleString()}</b></Link>
          </li>
        ))}
        {recent.data?.nextCursor ? <li>(the newest 200 runs)</li> : null}
      </ul>

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
