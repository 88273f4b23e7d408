import type { CheckResultRecord, EventRecord, MaterializationRecord } from '../ports/metadata-store.ts';
import type { RunUpdate } from '../runtime/run-updates.ts';
import type { ApiClient } from './api-client.ts';
import type { ProgressView } from './progress.ts';
import { summarizeRun, type RunSummary } from './run-summary.ts';

/** The live view of a stored event, so a run followed over the API looks like a local one. */
export function eventToUpdate(e: EventRecord): RunUpdate | null {
  const p = e.payload;
  const step = e.step ?? '';
  if (e.type.startsWith('step.')) {
    return { kind: 'step', runId: e.runId, step, status: e.type.slice(5) as never, attempt: Number(p.attempt ?? 0), reason: (p.reason as string | null) ?? null };
  }
  if (e.type.startsWith('run.') && e.type !== 'run.started') {
    return { kind: 'run', runId: e.runId, pipeline: '', status: e.type.slice(4) as never, error: (p.error as string | null) ?? null };
  }
  switch (e.type) {
    case 'progress':
      return { kind: 'progress', runId: e.runId, step, rows: Number(p.rows), message: (p.message as string | undefined) ?? undefined };
    case 'log':
      return { kind: 'log', runId: e.runId, step, level: String(p.level), message: String(p.message) };
    case 'asset.materialized':
      return { kind: 'materialized', runId: e.runId, step, asset: String(p.asset), rows: Number(p.rows), metadata: (p.metadata as Record<string, unknown>) ?? {} };
    case 'check.evaluated':
      return { kind: 'check', runId: e.runId, step, result: p as never };
    case 'attempt.failed': {
      const err = (p.error ?? {}) as Partial<Record<'code' | 'name' | 'message' | 'nonRetryableReason' | 'stack' | 'frame', string>> & { retryable?: boolean };
      if (err.code === 'cancelled') return null;
      const failure = {
        code: err.code ?? 'unknown', name: err.name ?? 'Error', message: err.message ?? '', retryable: err.retryable ?? false,
        nonRetryableReason: err.nonRetryableReason ?? null, stack: err.stack ?? null, frame: err.frame ?? null,
        notRetried: (p.notRetried as string | null | undefined) ?? null,
      };
      return { kind: 'attempt', runId: e.runId, step, attempt: Number(p.attempt ?? 0), failure };
    }
    default:
      return null;
  }
}

/** Starts a run through the server's API, shows its events live, and returns its summary. */
export async function runRemote(
  api: ApiClient,
  req: { pipeline: string; partition?: string; params: Record<string, unknown>; allPartitions?: boolean; allowOutOfRange?: boolean },
  live: ProgressView | null,
): Promise<RunSummary> {
  const run = await api.call<{ id: string }>('POST', '/api/v1/runs', req);
  return followRun(api, run.id, live);
}

/** Shows a run's events live (from its start, whenever it began) until it ends, and returns its summary. */
export async function followRun(api: ApiClient, runId: string, live: ProgressView | null): Promise<RunSummary> {
  const mats: MaterializationRecord[] = [];
  const checks: CheckResultRecord[] = [];
  await api.follow(runId, (_type, data) => {
    const e = data as unknown as EventRecord;
    const p = e.payload;
    if (e.type === 'asset.materialized') {
      mats.unshift({ runId: e.runId, step: e.step ?? '', asset: String(p.asset), partition: null, rows: Number(p.rows), metadata: (p.metadata as Record<string, unknown>) ?? {}, ts: e.ts });
    } else if (e.type === 'check.evaluated') {
      const r = p as unknown as CheckResultRecord;
      checks.unshift({ ...r, runId: e.runId, step: e.step ?? '', partition: null, value: r.value ?? null, ts: e.ts });
    }
    const u = eventToUpdate(e);
    if (u && live) live.update(u);
  });
  return summarizeRun(await api.run(runId), mats, checks);
}
