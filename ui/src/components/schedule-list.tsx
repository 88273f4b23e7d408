import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { useCan } from '../api/me';
import { ErrorNote } from './error-note';
import { when } from './status';

/** A pipeline's schedules with their state, next and last tick; an admin turns each on or off. */
export function ScheduleList({ pipeline }: { pipeline: string }) {
  const isAdmin = useCan('admin');
  const queryClient = useQueryClient();
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: () => data(api.GET('/api/v1/schedules')) });
  const toggle = useMutation({
    mutationFn: (s: { name: string; enabled: boolean }) => data(api.PUT('/api/v1/schedules/{pipeline}/{schedule}', {
      params: { path: { pipeline, schedule: s.name } }, body: { enabled: s.enabled },
    })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['schedules'] }),
  });
  const mine = (schedules.data?.items ?? []).filter((s) => s.pipeline === pipeline);
  if (schedules.error) return <ErrorNote error={schedules.error} />;
  if (schedules.data && mine.length === 0) return <p>None.</p>;
  return (
    <>
      <table aria-label="schedules">
        <thead><tr><th>Schedule</th><th>Cron</th><th>Partition</th><th>State</th><th>Next tick</th><th>Last tick</th>{isAdmin ? <th>Action</th> : null}</tr></thead>
        <tbody>
          {mine.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td>
              <td><code>{s.cron}</code> {s.timezone}</td>
              <td>{s.partition}</td>
              <td>{s.enabled ? 'enabled' : 'disabled'}</td>
              <td>{s.enabled ? when(s.nextTickAt) : '—'}</td>
              <td>{s.lastTick ? <Link to={`/runs/${s.lastTick.runId}`}>{s.lastTick.status} {when(s.lastTick.tickAt)}</Link> : '—'}</td>
              {isAdmin ? (
                <td>
                  <button type="button" disabled={toggle.isPending} onClick={() => toggle.mutate({ name: s.name, enabled: !s.enabled })}>
                    {s.enabled ? 'Disable' : 'Enable'} schedule {s.name}
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {toggle.error ? <ErrorNote error={toggle.error} /> : null}
    </>
  );
}
