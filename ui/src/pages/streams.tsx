import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { LazyChart } from '../components/lazy-chart';

/** Points kept per stream for the charts: two minutes at one a second. */
const HISTORY = 120;
const COLOURS = ['#3b73c4', '#2e8b4e', '#c0392b', '#8e44ad', '#d35400', '#16a085'];

interface Point { readonly t: number; readonly lag: number; readonly out: number }

/** What this tab has seen of each stream since it loaded (kept across page changes), newest last. */
const history = new Map<string, Point[]>();

/** One poll of the API, added to the history the charts draw. */
async function fetchStreams() {
  const r = await data(api.GET('/api/v1/streams', { params: { query: {} } }));
  const t = Math.floor(Date.now() / 1000);
  for (const s of r.items) {
    const list = history.get(s.stream) ?? [];
    if (list.at(-1)?.t !== t) list.push({ t, lag: s.lag, out: s.rates.records_out ?? 0 });
    if (list.length > HISTORY) list.splice(0, list.length - HISTORY);
    history.set(s.stream, list);
  }
  return r;
}

type Stream = Awaited<ReturnType<typeof fetchStreams>>['items'][number];

/**
 * Stream steps (connectors, live loaders): state, lag per partition and throughput, polled
 * once a second; the charts are drawn from what this tab has seen since it loaded.
 */
export function StreamsPage() {
  const streams = useQuery({ queryKey: ['streams'], queryFn: fetchStreams, refetchInterval: 1_000 });

  const items = streams.data?.items ?? [];
  const charted = items.filter((s) => (history.get(s.stream)?.length ?? 0) > 1);
  const xs = [...new Set(charted.flatMap((s) => history.get(s.stream)!.map((p) => p.t)))].sort((a, b) => a - b);
  const seriesOf = (pick: (p: Point) => number) => charted.map((s, i) => {
    const byT = new Map(history.get(s.stream)!.map((p) => [p.t, pick(p)]));
    return { label: s.stream, color: COLOURS[i % COLOURS.length]!, values: xs.map((x) => byT.get(x) ?? null) };
  });
  return (
    <section>
      <header className="page-header"><h1>Streams</h1></header>
      {streams.error ? <ErrorNote error={streams.error} /> : null}
      {streams.data && items.length === 0 ? <p>No pipeline has a stream step. A step with <code>stream: true</code> (or a <code>connector()</code>) shows here.</p> : null}
      <table aria-label="streams">
        <thead><tr><th>Stream</th><th>State</th><th>Lag</th><th>Rows written</th><th>Rows/s</th><th>Dead letters</th><th>Run</th></tr></thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.stream}>
              <td title={s.description ?? undefined}>{s.stream}</td>
              <td><span className={`status status-${stateClass(s.state)}`}>{s.state.replace('_', ' ')}</span>{s.replicas > 1 ? <small> × {s.replicas} replicas</small> : null}{s.reason ? <small> — {s.reason}</small> : null}</td>
              <td>{s.lag.toLocaleString()}</td>
              <td>{(s.counters.records_out ?? 0).toLocaleString()}</td>
              <td>{Math.round(s.rates.records_out ?? 0).toLocaleString()}</td>
              <td>{(s.counters.dead_letters ?? 0).toLocaleString()}</td>
              <td>{s.runId ? <Link to={`/runs/${s.runId}`}>{s.runId.slice(0, 8)}</Link> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {charted.length > 0 ? (
        <div className="chart-pair">
          <figure><figcaption>Lag (records not consumed yet)</figcaption><LazyChart label="lag per stream over the last two minutes" x={xs} series={seriesOf((p) => p.lag)} height={160} /></figure>
          <figure><figcaption>Throughput (rows written per second)</figcaption><LazyChart label="rows written per second per stream over the last two minutes" x={xs} series={seriesOf((p) => p.out)} height={160} /></figure>
        </div>
      ) : null}
      {items.filter((s) => s.partitions.length > 0).map((s) => <Partitions key={s.stream} stream={s} />)}
    </section>
  );
}

function Partitions({ stream }: { stream: Stream }) {
  return (
    <details open={stream.state === 'running'}>
      <summary>{stream.stream}: {stream.partitions.length} partition{stream.partitions.length === 1 ? '' : 's'}{stream.message ? ` — ${stream.message}` : ''}</summary>
      <table aria-label={`partitions of ${stream.stream}`}>
        <thead><tr><th>Topic</th><th>Partition</th><th>Committed offset</th><th>End</th><th>Lag</th></tr></thead>
        <tbody>
          {stream.partitions.map((p) => (
            <tr key={`${p.topic}/${p.partition}`}><td>{p.topic}</td><td>{p.partition}</td><td>{p.offset.toLocaleString()}</td><td>{p.end.toLocaleString()}</td><td>{p.lag.toLocaleString()}</td></tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** The run-status colours the rest of the UI uses, by what a stream state means. */
function stateClass(state: string): string {
  if (state === 'running') return 'running';
  if (state === 'failed') return 'failed';
  if (state === 'backing_off' || state === 'starting' || state === 'paused') return 'queued';
  return 'cancelled';
}
