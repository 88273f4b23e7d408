import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecord, RunDetail } from './api.ts';
import type { RunSpec } from './plan.ts';

export interface Violation {
  readonly kind: string;
  readonly runId: string | null;
  readonly message: string;
}

// no_data ends a run too: a partition the source has no line of (the demo backfill's Saturdays).
const TERMINAL_RUN = new Set(['succeeded', 'no_data', 'failed', 'cancelled']);
const TERMINAL_STEP = new Set(['no_data', 'succeeded', 'failed', 'cancelled', 'skipped']);
/** Events the coordinator records for an attempt's own reports (they carry the attempt's seq). */
const hasSeq = (e: EventRecord) => Number.isInteger(e.payload.seq);
/** Events that end an attempt in the history. */
const ENDS_ATTEMPT = new Set(['attempt.lost', 'attempt.failed', 'step.succeeded', 'step.cancelled']);

export const isTerminalRun = (status: string) => TERMINAL_RUN.has(status);

function summary(d: RunDetail): string {
  const attempts = d.attempts.map((a) => `${a.step}#${a.attempt} ${a.status}${a.error ? ` (${a.error.slice(0, 120)})` : ''}`).join('; ');
  return `${d.run.pipeline}${d.run.partition ? ` [${d.run.partition}]` : ''} ${d.run.status}${d.run.error ? `: ${d.run.error.slice(0, 200)}` : ''}; attempts: ${attempts}`;
}

/**
 * The outcome the campaign asked for (`expect`, null for a run it did not submit: it only
 * has to end), the run's steps and attempts as the store has them.
 */
export function checkRunRecord(d: RunDetail, spec: RunSpec | undefined, expect: 'succeeded' | 'failed' | null = spec?.expect ?? 'succeeded'): Violation[] {
  const out: Violation[] = [];
  const v = (kind: string, message: string) => out.push({ kind, runId: d.run.id, message });
  if (!isTerminalRun(d.run.status)) {
    v('run-never-ended', `still ${d.run.status}: ${summary(d)}`);
    return out;
  }
  if (expect !== null && d.run.status !== expect) v('outcome', `expected ${expect}${spec ? ` (${spec.kind} ${JSON.stringify(spec.params)})` : ''}, got ${summary(d)}`);
  for (const s of d.steps) {
    if (!TERMINAL_STEP.has(s.status)) v('step-not-ended', `step ${s.step} is ${s.status} in a finished run`);
    if (d.run.status === 'succeeded' && (s.status !== 'succeeded' || s.reason !== null)) v('step-outcome', `step ${s.step} ${s.status} (${s.reason}) in a succeeded run`);
    const attempts = d.attempts.filter((a) => a.step === s.step).sort((a, b) => a.attempt - b.attempt);
    const numbers = attempts.map((a) => a.attempt);
    if (new Set(numbers).size !== numbers.length) v('attempt-duplicated', `step ${s.step} has attempt numbers ${numbers.join(',')}`);
    const succeeded = attempts.filter((a) => a.status === 'succeeded');
    if (succeeded.length > 1) v('succeeded-twice', `step ${s.step}: attempts ${succeeded.map((a) => a.attempt).join(', ')} all succeeded`);
    if (s.status === 'succeeded' && attempts.length > 0 && attempts.at(-1)!.status !== 'succeeded') {
      v('attempt-order', `step ${s.step} succeeded but its last attempt is ${attempts.at(-1)!.status}`);
    }
    for (const a of attempts) if (a.status === 'running') v('attempt-not-ended', `step ${s.step} attempt ${a.attempt} still running in a finished run`);
  }
  return out;
}

/**
 * The run's event history: one terminal event matching the run; per attempt the applied
 * events' sequence numbers strictly increase (a replay applied twice, or out of order, shows
 * here); nothing of an attempt is applied after it ended (fenced off); each step succeeds once.
 */
export function checkRunEvents(d: RunDetail, events: readonly EventRecord[]): Violation[] {
  const out: Violation[] = [];
  const v = (kind: string, message: string) => out.push({ kind, runId: d.run.id, message });
  const terminal = events.filter((e) => e.type.startsWith('run.') && TERMINAL_RUN.has(e.type.slice('run.'.length)));
  if (terminal.length !== 1) v('terminal-events', `${terminal.length} terminal run events (${terminal.map((e) => e.type).join(', ')})`);
  else if (terminal[0].type !== `run.${d.run.status}`) v('terminal-events', `history ends ${terminal[0].type}, the run is ${d.run.status}`);
  const last = terminal.at(-1);
  if (last) {
    const after = events.filter((e) => e.id > last.id && e.attemptId !== null);
    if (after.length > 0) v('event-after-end', `${after.length} attempt events after ${last.type}: ${after.slice(0, 3).map((e) => e.type).join(', ')}`);
  }
  const seqs = new Map<string, number>();
  const ended = new Map<string, EventRecord>();
  for (const e of events) {
    if (e.attemptId === null) continue;
    if (hasSeq(e)) {
      const seq = Number(e.payload.seq);
      const prev = seqs.get(e.attemptId);
      if (prev !== undefined && seq <= prev) v('event-seq', `attempt ${e.attemptId} (${e.step}): ${e.type} seq ${seq} applied after seq ${prev}`);
      seqs.set(e.attemptId, Math.max(prev ?? -1, seq));
      const end = ended.get(e.attemptId);
      if (end) v('fenced-event-applied', `attempt ${e.attemptId} (${e.step}): ${e.type} seq ${seq} applied after ${end.type}`);
    }
    if (ENDS_ATTEMPT.has(e.type) && !ended.has(e.attemptId)) ended.set(e.attemptId, e);
  }
  const succeeded = new Map<string, number>();
  for (const e of events) if (e.type === 'step.succeeded' && e.step) succeeded.set(e.step, (succeeded.get(e.step) ?? 0) + 1);
  for (const [step, n] of succeeded) if (n > 1) v('succeeded-twice', `step ${step}: ${n} step.succeeded events`);
  return out;
}

/** A succeeded dummy run wrote its object once, whole: exactly `records` records. */
export function checkDummyObject(d: RunDetail, home: string): Violation[] {
  if (d.run.pipeline !== 'dummy' || d.run.status !== 'succeeded') return [];
  const file = join(home, 'objects', 'dummy', d.run.id, `${d.run.partition ?? 'all'}.json`);
  const want = Number(d.run.params.records);
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { count: number; records: unknown[] };
    if (doc.count !== want || doc.records.length !== want) {
      return [{ kind: 'dummy-object', runId: d.run.id, message: `${file}: count ${doc.count}, ${doc.records.length} records, want ${want}` }];
    }
  } catch (err) {
    return [{ kind: 'dummy-object', runId: d.run.id, message: `${file}: ${(err as Error).message}` }];
  }
  return [];
}
