import { lazy, Suspense, useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, data, type PipelineDetail } from '../api/client';
import { useCan } from '../api/me';
import type { GraphEdge, GraphNode } from '../components/dag-graph';
import { ErrorNote } from '../components/error-note';
import { LaunchForm } from '../components/launch-form';
import { RequireRole } from '../components/require-role';
import { ScheduleList } from '../components/schedule-list';
import { Status, when } from '../components/status';

// The graph brings React Flow and ELK: loaded with the first page that draws one.
const DagGraph = lazy(() => import('../components/dag-graph'));

/** One pipeline: its DAG coloured by the latest run, its params, partitions and schedules, and the launch form. */
export function PipelinePage() {
  const { name = '' } = useParams();
  const canEdit = useCan('edit');
  const pipeline = useQuery({ queryKey: ['pipeline', name], queryFn: () => data(api.GET('/api/v1/pipelines/{name}', { params: { path: { name } } })) });
  const latest = useQuery({
    queryKey: ['runs', name, 'latest'],
    queryFn: async () => {
      const page = await data(api.GET('/api/v1/runs', { params: { query: { pipeline: name, limit: 1 } } }));
      const run = page.items[0];
      return run ? data(api.GET('/api/v1/runs/{id}', { params: { path: { id: run.id } } })) : null;
    },
  });
  const graph = useMemo(() => (pipeline.data ? graphOf(pipeline.data, latest.data ?? null) : null), [pipeline.data, latest.data]);
  if (pipeline.error) return <ErrorNote error={pipeline.error} />;
  if (!pipeline.data || !graph) return <p>Loading pipeline…</p>;
  const p = pipeline.data;
  return (
    <section>
      <header className="page-header">
        <h1>{p.name}</h1>
        <Link to={`/runs?pipeline=${encodeURIComponent(p.name)}`}>Runs of {p.name}</Link>
      </header>
      <p>{p.description}</p>
      <p className="hint">
        {p.file ? <>Defined in <code>{p.file}</code>. </> : null}
        {latest.data ? <>Colours show the latest run, <Link to={`/runs/${latest.data.run.id}`}>{latest.data.run.id.slice(0, 8)}</Link> ({latest.data.run.status}).</> : 'No run yet.'}
      </p>
      <Suspense fallback={<p>Loading graph…</p>}>
        <DagGraph nodes={graph.nodes} edges={graph.edges} label="pipeline graph" />
      </Suspense>
      {canEdit ? <LaunchForm pipeline={p} /> : <p className="hint">Launching runs needs the edit role.</p>}
      <h2>Schedules</h2>
      <ScheduleList pipeline={p.name} />
      {p.partitions ? (
        <>
          <h2>Partitions</h2>
          <p>
            {p.partitions.granularity} from {p.partitions.start}{p.partitions.end ? ` to ${p.partitions.end}` : ', open-ended'}; {p.partitionStatus.length} with a run.{' '}
            <Link to={`/pipelines/${encodeURIComponent(p.name)}/partitions`}>Partition grid</Link>
          </p>
          <table aria-label="partition status">
            <thead><tr><th>Partition</th><th>Latest run</th><th>Updated</th></tr></thead>
            <tbody>
              {p.partitionStatus.slice(-60).reverse().map((s) => (
                <tr key={s.partition}>
                  <td>{s.partition}</td>
                  <td><Link to={`/runs/${s.runId}`}><Status status={s.status as never} /></Link></td>
                  <td>{when(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

/** The launch form on a page of its own (`/pipelines/:name/launch`): a link that opens it ready to fill. */
export function LaunchPage() {
  const { name = '' } = useParams();
  const pipeline = useQuery({ queryKey: ['pipeline', name], queryFn: () => data(api.GET('/api/v1/pipelines/{name}', { params: { path: { name } } })) });
  return (
    <section>
      <h1>Launch {name}</h1>
      <RequireRole role="edit" what="Launching a run">
        {pipeline.error ? <ErrorNote error={pipeline.error} /> : pipeline.data ? <LaunchForm pipeline={pipeline.data} /> : <p>Loading pipeline…</p>}
      </RequireRole>
    </section>
  );
}

function graphOf(p: PipelineDetail, latest: { steps: { step: string; status: string }[] } | null): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const status = new Map(latest?.steps.map((s) => [s.step, s.status]) ?? []);
  return {
    nodes: p.dag.nodes.map((n) => ({ id: n.name, label: n.name, detail: n.assets.map((a) => a.name), status: status.get(n.name) ?? null })),
    edges: p.dag.edges,
  };
}
