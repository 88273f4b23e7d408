import { useEffect, useMemo, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Link, useNavigate, useParams } from 'react-router';
import { api, data, type RunDetail } from '../api/client';
import { useCan } from '../api/me';
import { followEvents, type RunEvent } from '../api/run-events';
import { ErrorNote } from '../components/error-note';
import { RunTimeline } from '../components/run-timeline';
import { duration, Status, when } from '../components/status';

const MAX_LOG_LINES = 20_000;
/** Materializations and check results kept per run page, like the log lines: the newest. */
const MAX_FACTS = 5_000;
const LOG_LINE_PX = 19;
const DETAIL_EVERY_MS = 1000;

interface Materialized {
  readonly id: number;
  readonly step: string | null;
  readonly asset: string;
  readonly rows: number;
  readonly quarantined: number;
}

interface CheckFound {
  readonly id: number;
  readonly step: string | null;
  readonly asset: string;
  readonly check: string;
  readonly severity: string;
  readonly passed: boolean;
  readonly value: number | null;
  readonly message: string;
}

interface Found {
  readonly materialized: Materialized[];
  readonly checks: CheckFound[];
}

/** What the run's events say it wrote and what its checks found. */
function found(prev: Found, batch: RunEvent[]): Found {
  const materialized = batch.filter((e) => e.type === 'asset.materialized').map((e) => ({
    id: e.id, step: e.step, asset: String(e.payload.asset), rows: Number(e.payload.rows ?? 0),
    quarantined: Number((e.payload.metadata as Record<string, unknown> | undefined)?.quarantined ?? 0),
  }));
  const checks = batch.filter((e) => e.type === 'check.evaluated').map((e) => ({
    id: e.id, step: e.step, asset: String(e.payload.asset), check: String(e.payload.check), severity: String(e.payload.severity),
    passed: e.payload.passed === true, value: typeof e.payload.value === 'number' ? e.payload.value : null, message: String(e.payload.message ?? ''),
  }));
  if (materialized.length === 0 && checks.length === 0) return prev;
  return { materialized: [...prev.materialized, ...materialized].slice(-MAX_FACTS), checks: [...prev.checks, ...checks].slice(-MAX_FACTS) };
}

interface LogLine {
  readonly id: number;
  readonly ts: string;
  readonly step: string | null;
  readonly level: string;
  readonly message: string;
}

/** One run, live: its status, steps and attempts on a timeline, materializations, logs, and the actions its state allows. */
export function RunPage() {
  const { id = '' } = useParams();
  // Keyed by id: another run's page starts with its own, empty, log.
  return <LiveRun key={id} id={id} />;
}

function LiveRun({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const run = useQuery({ queryKey: ['run', id], queryFn: () => data(api.GET('/api/v1/runs/{id}', { params: { path: { id } } })) });
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [facts, setFacts] = useState<Found>({ materialized: [], checks: [] });

  useEffect(() => {
    const abort = new AbortController();
    // The run's detail is read again at most once a second while it runs (a 200-step run
    // sends step events many times a second), and at once when the run itself changes.
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = (now: boolean) => {
      if (timer !== null && !now) return;
      const wait = now ? 0 : Math.max(0, last + DETAIL_EVERY_MS - Date.now());
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        void queryClient.invalidateQueries({ queryKey: ['run', id] });
      }, wait);
    };
    void followEvents(`/api/v1/runs/${encodeURIComponent(id)}/events`, (batch: RunEvent[]) => {
      const lines = batch.filter((e) => e.type === 'log').map((e) => ({
        id: e.id, ts: e.ts, step: e.step, level: String(e.payload.level ?? 'info'), message: String(e.payload.message ?? ''),
      }));
      if (lines.length > 0) setLogs((prev) => [...prev, ...lines].slice(-MAX_LOG_LINES));
      setFacts((prev) => found(prev, batch));
      if (batch.some((e) => e.type.startsWith('run.'))) refresh(true);
      else if (batch.some((e) => e.type.startsWith('step.') || e.type.startsWith('attempt.') || e.type === 'asset.materialized')) refresh(false);
    }, abort.signal);
    return () => {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [id, queryClient]);

  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <p>Loading run…</p>;
  return <RunView detail={run.data} logs={logs} facts={facts} />;
}

function RunView({ detail, logs, facts }: { detail: RunDetail; logs: LogLine[]; facts: Found }) {
  const { run, steps, attempts } = detail;
  const finished = run.finishedAt !== null;
  const failures = attempts.filter((a) => a.failure);
  return (
    <section>
      <header className="page-header">
        <h1>
          Run <code>{run.id.slice(0, 8)}</code> of <Link to={`/pipelines/${encodeURIComponent(run.pipeline)}`}>{run.pipeline}</Link>
          {run.partition ? <> [{run.partition}]</> : null}
        </h1>
        <RunActions detail={detail} />
      </header>
      <dl className="facts">
        <dt>Status</dt>
        <dd><span aria-label="run status" className={`status status-${run.status}`}>{run.status === 'no_data' ? 'no data' : run.status}</span></dd>
        <dt>Created</dt><dd>{when(run.createdAt)}</dd>
        <dt>Duration</dt><dd>{duration(run.startedAt, run.finishedAt)}{finished ? '' : ' (running)'}</dd>
        <dt>Rows written</dt><dd>{steps.reduce((n, s) => n + s.rowsWritten, 0).toLocaleString()}</dd>
        {run.parentRunId ? <><dt>Retry of</dt><dd><Link to={`/runs/${run.parentRunId}`}>{run.parentRunId.slice(0, 8)}</Link></dd></> : null}
        {run.rootRunId && run.rootRunId !== run.parentRunId ? <><dt>First run</dt><dd><Link to={`/runs/${run.rootRunId}`}>{run.rootRunId.slice(0, 8)}</Link></dd></> : null}
        {run.backfillId ? <><dt>Backfill</dt><dd><code>{run.backfillId.slice(0, 8)}</code></dd></> : null}
      </dl>
      {run.error ? <p className="error" role="status">{run.error}</p> : null}

      <h2>Timeline</h2>
      <RunTimeline detail={detail} />

      <h2>Steps</h2>
      <table>
        <thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Rows</th><th>Duration</th><th>Reason</th></tr></thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.step}>
              <td>{s.step}</td>
              <td><Status status={s.status} /></td>
              <td>{s.attempts}</td>
              <td>{s.rowsWritten.toLocaleString()}</td>
              <td>{duration(s.startedAt, s.finishedAt)}</td>
              <td>{s.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <Written run={run.id} facts={facts} />

      {failures.length > 0 ? (
        <>
          <h2>Errors</h2>
          {failures.map((a) => (
            <details key={a.id} open={a === failures[failures.length - 1]}>
              <summary>
                {a.step} attempt {a.attempt}: {a.failure!.name}: {a.failure!.message}
                {a.failure!.frame ? <> at <code>{a.failure!.frame}</code></> : null}
              </summary>
              {a.failure!.notRetried ? <p>Not retried: {a.failure!.notRetried}</p> : null}
              {a.failure!.stack ? <pre className="stack">{a.failure!.stack}</pre> : null}
            </details>
          ))}
        </>
      ) : null}

      <h2>Logs</h2>
      <LogView logs={logs} steps={steps.map((s) => s.step)} />
    </section>
  );
}

/** Per step: the assets it wrote with their rows (and rows set aside), and every check's result with its value. */
function Written({ run, facts }: { run: string; facts: Found }) {
  const quarantined = facts.materialized.reduce((n, m) => n + m.quarantined, 0);
  return (
    <>
      <h2>Materializations</h2>
      {facts.materialized.length === 0 ? <p>Nothing written yet.</p> : (
        <table aria-label="materializations">
          <thead><tr><th>Step</th><th>Asset</th><th>Rows</th><th>Quarantined</th></tr></thead>
          <tbody>
            {facts.materialized.map((m) => (
              <tr key={m.id}>
                <td>{m.step}</td><td><Link to={`/assets/${encodeURIComponent(m.asset)}`}>{m.asset}</Link></td>
                <td>{m.rows.toLocaleString()}</td><td>{m.quarantined > 0 ? m.quarantined.toLocaleString() : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {quarantined > 0 ? <p><Link to={`/quality?q=${encodeURIComponent(run)}#quarantine`}>{quarantined.toLocaleString()} quarantined rows of this run</Link></p> : null}
      {facts.checks.length > 0 ? (
        <>
          <h2>Checks</h2>
          <table aria-label="check results">
            <thead><tr><th>Step</th><th>Check</th><th>Result</th><th>Value</th><th>Message</th></tr></thead>
            <tbody>
              {facts.checks.map((c) => (
                <tr key={c.id}>
                  <td>{c.step}</td><td>{c.asset}:{c.check} ({c.severity})</td>
                  <td><span className={`status status-${c.passed ? 'succeeded' : 'failed'}`}>{c.passed ? 'passed' : 'failed'}</span></td>
                  <td>{c.value ?? '—'}</td><td>{c.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}

function RunActions({ detail }: { detail: RunDetail }) {
  const canEdit = useCan('edit');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { run } = detail;
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['run', run.id] });
  const cancel = useMutation({ mutationFn: () => data(api.POST('/api/v1/runs/{id}/cancel', { params: { path: { id: run.id } } })), onSuccess: refresh });
  const retry = useMutation({
    mutationFn: () => data(api.POST('/api/v1/runs/{id}/retry', { params: { path: { id: run.id } } })),
    onSuccess: (r) => navigate(`/runs/${r.id}`),
  });
  const rerun = useMutation({
    mutationFn: () => data(api.POST('/api/v1/runs', {
      body: { pipeline: run.pipeline, params: run.params as Record<string, string | number | boolean | null>, ...(run.partition ? { partition: run.partition } : { allPartitions: true }), allowOutOfRange: true },
    })),
    onSuccess: (r) => navigate(`/runs/${r.id}`),
  });
  if (!canEdit) return null;
  const active = run.status === 'queued' || run.status === 'running';
  const error = cancel.error ?? retry.error ?? rerun.error;
  return (
    <div className="actions">
      {active ? <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending}>Cancel</button> : null}
      {!active && run.status !== 'succeeded' ? <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>Retry from failure</button> : null}
      {!active ? <button type="button" onClick={() => rerun.mutate()} disabled={rerun.isPending}>Re-run</button> : null}
      {error ? <ErrorNote error={error} /> : null}
    </div>
  );
}

function LogView({ logs, steps }: { logs: LogLine[]; steps: string[] }) {
  const [step, setStep] = useState('');
  const [level, setLevel] = useState('');
  const [text, setText] = useState('');
  const [follow, setFollow] = useState(true);
  const shown = useMemo(() => {
    const needle = text.toLowerCase();
    return logs.filter((l) => (!step || l.step === step) && (!level || l.level === level) && (!needle || l.message.toLowerCase().includes(needle)));
  }, [logs, step, level, text]);
  const box = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's functions are read during render by design
  const v = useVirtualizer({ count: shown.length, getScrollElement: () => box.current, estimateSize: () => LOG_LINE_PX, overscan: 20 });
  useEffect(() => {
    if (follow && shown.length > 0) v.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [shown, follow, v]);
  return (
    <div className="logs">
      <div className="filters">
        <label>Step <select value={step} onChange={(e) => setStep(e.target.value)}><option value="">all</option>{steps.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Level <select value={level} onChange={(e) => setLevel(e.target.value)}><option value="">all</option>{['debug', 'info', 'warn', 'error'].map((l) => <option key={l}>{l}</option>)}</select></label>
        <label>Search <input type="search" value={text} onChange={(e) => setText(e.target.value)} /></label>
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow</label>
        <span>{shown.length.toLocaleString()} of {logs.length.toLocaleString()} lines</span>
      </div>
      <div className="log-lines" ref={box} role="log" aria-label="run logs" tabIndex={0}>
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((it) => {
            const l = shown[it.index]!;
            return (
              <div key={l.id} className={`log log-${l.level}`} style={{ position: 'absolute', top: it.start, height: LOG_LINE_PX, left: 0, right: 0 }}>
                <time>{new Date(l.ts).toLocaleTimeString()}</time> <b>{l.step ?? 'run'}</b> <span className="level">{l.level}</span> {l.message}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
