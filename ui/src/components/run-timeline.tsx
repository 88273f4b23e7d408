import type { RunDetail } from '../api/client';
import { duration, useNow } from './status';

/**
 * The run as a Gantt: one row per step, one bar per attempt, placed on the run's own time
 * axis; a failed, lost or cancelled attempt keeps its colour, so retries read at a glance.
 */
export function RunTimeline({ detail }: { detail: RunDetail }) {
  const { run, steps, attempts } = detail;
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const now = useNow();
  const end = Math.max(start + 1, ...attempts.map((a) => (a.finishedAt ? Date.parse(a.finishedAt) : now)), run.finishedAt ? Date.parse(run.finishedAt) : start + 1);
  const pct = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(2)}%`;
  return (
    <div className="timeline" role="list" aria-label="run timeline">
      {steps.map((s) => (
        <div className="timeline-row" role="listitem" key={s.step}>
          <span className="timeline-step">{s.step}</span>
          <span className="timeline-track">
            {attempts.filter((a) => a.step === s.step).map((a) => {
              const from = Date.parse(a.startedAt);
              const to = a.finishedAt ? Date.parse(a.finishedAt) : now;
              // A timeout is a failure with its own cause: the word says which.
              const word = a.failure?.code === 'timeout' ? 'timed out' : a.status;
              return (
                <span
                  key={a.id}
                  role="img"
                  className={`bar status-${a.status}${word === 'timed out' ? ' timed-out' : ''}`}
                  style={{ left: pct(from), width: `max(3px, calc(${pct(to)} - ${pct(from)}))` }}
                  title={`attempt ${a.attempt}: ${word}, ${duration(a.startedAt, a.finishedAt)}${a.error ? ` — ${a.error}` : ''}`}
                  aria-label={`${s.step} attempt ${a.attempt}: ${word}`}
                />
              );
            })}
            {s.status === 'skipped' || s.status === 'no_data' || s.status === 'pending' ? <span className="timeline-note">{s.status === 'skipped' ? `skipped — ${s.reason ?? ''}` : s.status === 'no_data' ? 'no data' : 'waiting'}</span> : null}
            {s.status === 'succeeded' && s.reason ? <span className="timeline-note timeline-note-end">{s.reason}</span> : null}
          </span>
        </div>
      ))}
    </div>
  );
}
