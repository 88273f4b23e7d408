import { lazy, Suspense, useMemo } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { assetPath, useAssets, useCheckResults, useMaterializations } from '../api/assets';
import { CheckHistory, RowsPerPartition } from '../components/asset-charts';
import type { GraphEdge, GraphNode } from '../components/dag-graph';
import { ErrorNote } from '../components/error-note';
import { when } from '../components/status';

/** Newest results listed under the charts (the charts read more). */
const SHOWN = 50;

const DagGraph = lazy(() => import('../components/dag-graph'));


/** The catalog: every asset with the step that writes it, its newest materialization and its checks. */
export function Assets() {
  const assets = useAssets();
  return (
    <section>
      <h1>Assets</h1>
      {assets.error ? <ErrorNote error={assets.error} /> : null}
      <table aria-label="assets">
        <thead><tr><th>Asset</th><th>Pipeline / step</th><th>Latest</th><th>Rows</th><th>Checks</th><th>Upstream</th></tr></thead>
        <tbody>
          {assets.data?.items.map((a) => (
            <tr key={a.name}>
              <td><Link to={assetPath(a.name)}>{a.name}</Link></td>
              <td>{a.pipeline} / {a.step}</td>
              <td>{a.latest ? <Link to={`/runs/${a.latest.runId}`}>{when(a.latest.at)}</Link> : 'never'}</td>
              <td>{a.latest ? a.latest.rows.toLocaleString() : '—'}</td>
              <td>
                {a.checks.length === 0 ? '—' : a.checks.map((c) => {
                  const r = a.lastChecks.find((x) => x.check === c.name);
                  const word = r ? (r.passed ? 'passed' : 'failed') : 'not run';
                  return (
                    <span key={c.name} className="check" title={r ? `${r.partition ?? 'all partitions'}, ${when(r.at)}` : 'never evaluated'}>
                      {c.name} <span className={`status status-${r ? (r.passed ? 'succeeded' : 'failed') : 'pending'}`}>{word}</span>
                    </span>
                  );
                })}
              </td>
              <td className="cut" title={a.upstream.join(', ')}>{a.upstream.join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Every asset this one is made from and every asset made from it, transitively. */
function neighbourhood(items: { name: string; upstream: string[]; downstream: string[] }[], name: string): Set<string> {
  const by = new Map(items.map((a) => [a.name, a]));
  const seen = new Set([name]);
  for (const dir of ['upstream', 'downstream'] as const) {
    const todo = [name];
    while (todo.length > 0) {
      for (const n of by.get(todo.pop()!)?.[dir] ?? []) if (!seen.has(n)) {
        seen.add(n);
        todo.push(n);
      }
    }
  }
  return seen;
}

/** One asset: its lineage graph (upstream and downstream), materializations and check results. */
export function AssetPage() {
  const { name = '' } = useParams();
  const navigate = useNavigate();
  const assets = useAssets();
  const history = useMaterializations(name);
  const checks = useCheckResults(name);
  const graph = useMemo(() => {
    if (!assets.data) return null;
    const keep = neighbourhood(assets.data.items, name);
    const items = assets.data.items.filter((a) => keep.has(a.name));
    const nodes: GraphNode[] = items.map((a) => ({
      id: a.name, label: a.name, detail: [`${a.pipeline} / ${a.step}`, a.latest ? `${a.latest.rows.toLocaleString()} rows` : 'never materialized'],
      status: a.latest ? 'succeeded' : null, focus: a.name === name,
    }));
    const edges: GraphEdge[] = items.flatMap((a) => a.upstream.filter((u) => keep.has(u)).map((u) => ({ from: u, to: a.name })));
    return { nodes, edges };
  }, [assets.data, name]);
  const asset = assets.data?.items.find((a) => a.name === name);
  if (assets.error) return <ErrorNote error={assets.error} />;
  if (assets.data && !asset) return <p role="alert" className="error">No asset is named {name}.</p>;
  return (
    <section>
      <header className="page-header">
        <h1>{name}</h1>
        <Link to="/assets">All assets</Link>
      </header>
      {asset ? <p>{asset.description ? `${asset.description}. ` : ''}Written by <Link to={`/pipelines/${encodeURIComponent(asset.pipeline)}`}>{asset.pipeline}</Link> / {asset.step}.</p> : null}
      <h2>Lineage</h2>
      {graph ? (
        <Suspense fallback={<p>Loading graph…</p>}>
          <DagGraph nodes={graph.nodes} edges={graph.edges} label="lineage graph" onOpen={(id) => navigate(assetPath(id))} />
        </Suspense>
      ) : <p>Loading lineage…</p>}
      <h2>Rows per partition</h2>
      <RowsPerPartition asset={name} />
      {asset && asset.checks.length > 0 ? <><h2>Checks per partition</h2><CheckHistory asset={name} /></> : null}
      <h2>Materializations</h2>
      {history.error ? <ErrorNote error={history.error} /> : null}
      <table aria-label="materializations">
        <thead><tr><th>When</th><th>Partition</th><th>Rows</th><th>Run</th><th>Metadata</th></tr></thead>
        <tbody>
          {history.data?.items.slice(0, SHOWN).map((m) => (
            <tr key={`${m.runId}-${m.ts}`}>
              <td>{when(m.ts)}</td><td>{m.partition ?? 'all'}</td><td>{m.rows.toLocaleString()}</td>
              <td><Link to={`/runs/${m.runId}`}><code>{m.runId.slice(0, 8)}</code></Link></td>
              <td className="cut"><code>{JSON.stringify(m.metadata)}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Checks</h2>
      <table aria-label="check results">
        <thead><tr><th>When</th><th>Check</th><th>Partition</th><th>Result</th><th>Value</th><th>Message</th></tr></thead>
        <tbody>
          {checks.data?.items.slice(0, SHOWN).map((c) => (
            <tr key={`${c.runId}-${c.check}-${c.ts}`}>
              <td>{when(c.ts)}</td><td>{c.check} ({c.severity})</td><td>{c.partition ?? 'all'}</td>
              <td><span className={`status status-${c.passed ? 'succeeded' : 'failed'}`}>{c.passed ? 'passed' : 'failed'}</span></td>
              <td>{c.value ?? '—'}</td><td>{c.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
