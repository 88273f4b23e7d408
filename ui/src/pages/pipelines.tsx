import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { useCan } from '../api/me';
import { ErrorNote } from '../components/error-note';
import { BrokenPipelines } from '../components/broken-pipelines';

/** Every pipeline the control plane loaded, and the files that did not load. */
export function Pipelines() {
  const canEdit = useCan('edit');
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['pipelines'], queryFn: () => data(api.GET('/api/v1/pipelines')) });
  const reload = useMutation({
    mutationFn: () => data(api.POST('/api/v1/pipelines/reload')),
    onSuccess: (r) => queryClient.setQueryData(['pipelines'], { items: r.items, broken: r.broken }),
  });
  return (
    <section>
      <header className="page-header">
        <h1>Pipelines</h1>
        {canEdit ? <button type="button" onClick={() => reload.mutate()} disabled={reload.isPending}>Reload definitions</button> : null}
      </header>
      {reload.data ? (
        <p role="status">
          Reloaded: {reload.data.added.length} added, {reload.data.changed.length} changed, {reload.data.removed.length} removed, {reload.data.broken.length} broken.
        </p>
      ) : null}
      {reload.error ? <ErrorNote error={reload.error} /> : null}
      {list.error ? <ErrorNote error={list.error} /> : null}
      <table aria-label="pipelines">
        <thead><tr><th>Pipeline</th><th>Description</th><th>Steps</th><th>Partitions</th><th>Schedules</th><th>File</th></tr></thead>
        <tbody>
          {list.data?.items.map((p) => (
            <tr key={p.name}>
              <td><Link to={`/pipelines/${encodeURIComponent(p.name)}`}>{p.name}</Link></td>
              <td>{p.description}</td>
              <td>{p.steps.length}</td>
              <td>{p.partitions ? `${p.partitions.granularity} from ${p.partitions.start}${p.partitions.end ? ` to ${p.partitions.end}` : ''}` : '—'}</td>
              <td>{p.schedules.map((s) => `${s.name} (${s.cron} ${s.timezone})`).join(', ') || '—'}</td>
              <td className="cut" title={p.file ?? ''}><code>{p.file?.split('/').slice(-2).join('/') ?? ''}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data ? <BrokenPipelines broken={list.data.broken} /> : null}
    </section>
  );
}
