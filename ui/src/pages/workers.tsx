import { useMutation, useQuery } from '@tanstack/react-query';
import { api, data } from '../api/client';
import { useCan } from '../api/me';
import { ErrorNote } from '../components/error-note';

/** The control plane's worker processes, and a ping over the control topic with each answer's round trip. */
export function WorkersPage() {
  const canEdit = useCan('edit');
  const workers = useQuery({ queryKey: ['workers'], queryFn: () => data(api.GET('/api/v1/workers')) });
  const ping = useMutation({ mutationFn: () => data(api.POST('/api/v1/workers/ping', { body: { waitMs: 1000 } })) });
  const rtt = new Map(ping.data?.pongs.map((p) => [p.workerId, p.rttMs]) ?? []);
  return (
    <section>
      <header className="page-header">
        <h1>Workers</h1>
        {canEdit ? <button type="button" onClick={() => ping.mutate()} disabled={ping.isPending}>Ping workers</button> : null}
      </header>
      {workers.error ? <ErrorNote error={workers.error} /> : null}
      {ping.error ? <ErrorNote error={ping.error} /> : null}
      {ping.data ? <p role="status" aria-label="ping result">{ping.data.pongs.length} worker{ping.data.pongs.length === 1 ? '' : 's'} answered</p> : null}
      <table aria-label="workers">
        <thead><tr><th>Worker</th><th>pid</th><th>Health</th><th>Running attempts</th><th>Restarts</th><th>Round trip</th></tr></thead>
        <tbody>
          {workers.data?.items.map((w) => (
            <tr key={w.id}>
              <td>{w.id}</td><td>{w.pid ?? '—'}</td><td>{w.alive ? (w.ready ? 'ready' : 'starting') : 'down'}</td>
              <td>{w.running.length}</td><td>{w.restarts}</td>
              <td>{rtt.has(w.id) ? `${rtt.get(w.id)!.toFixed(1)} ms` : ping.data ? 'no answer' : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {ping.data?.pongs.filter((p) => !workers.data?.items.some((w) => w.id === p.workerId)).map((p) => (
        <p key={p.workerId}>Also answered: {p.workerId} ({p.rttMs} ms), a worker outside this control plane's pool.</p>
      ))}
    </section>
  );
}
