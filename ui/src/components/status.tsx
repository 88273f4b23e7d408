import { useEffect, useState } from 'react';
import type { RunStatus, StepStatus } from '../api/client';

const LABEL: Partial<Record<RunStatus | StepStatus, string>> = { no_data: 'no data' };

/** A status word with its colour; the word is the text, so it reads without the colour too. */
export function Status({ status, label }: { status: RunStatus | StepStatus; label?: string }) {
  return (
    <span className={`status status-${status}`} aria-label={label}>
      {LABEL[status] ?? status}
    </span>
  );
}

export function duration(from: string | null, to: string | null): string {
  if (!from) return '—';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '—');

/** The current time, ticking every `everyMs` while the component shows something live. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
