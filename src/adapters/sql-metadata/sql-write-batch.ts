import { FencedError, NotFoundError } from '../../core/errors.ts';
import type {
  AttemptRecord, CheckResultRecord, EventRecord, MaterializationRecord, NewEvent, RunChange, StepRecord, StreamOffset, WriteBatch,
} from '../../ports/metadata-store.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import { json, params } from './sql-query-parts.ts';
import { toEvent, type EventRow } from './rows.ts';

/**
 * The store's one write path: every change after a run's creation, in one transaction.
 * With `epoch` (this process leads since that leader epoch), the transaction first reads
 * the current epoch FOR SHARE: a later leader's claim waits for it, and once made, fails
 * this one before it writes anything.
 */
export async function writeBatch(client: SqlClient, batch: WriteBatch, epoch: number | null = null): Promise<EventRecord[]> {
  const { runs = [], attempts = [], steps = [], events = [], materializations = [], checks = [], offsets = [] } = batch;
  if (runs.length + attempts.length + steps.length + events.length + materializations.length + checks.length + offsets.length === 0) return [];
  return client.transaction(async (tx) => {
    if (epoch !== null) {
      const { rows } = await tx.query<{ epoch: string }>('SELECT epoch FROM leader_epoch WHERE id = 1 FOR SHARE');
      const now = Number(rows[0]?.epoch ?? 0);
      if (now !== epoch) throw new FencedError(`another control plane leads since epoch ${now} (this one led epoch ${epoch}); nothing was written`);
    }
    for (const r of runs) await updateRun(tx, r);
    for (const a of attempts) await upsertAttempt(tx, a);
    for (const s of steps) await upsertStep(tx, s);
    const out: EventRecord[] = [];
    for (const e of events) out.push(await appendEvent(tx, e));
    for (const m of materializations) await insertMaterialization(tx, m);
    for (const c of checks) await insertCheckResult(tx, c);
    for (const o of offsets) await upsertOffset(tx, o);
    return out;
  });
}

async function updateRun(db: SqlExecutor, change: RunChange): Promise<void> {
  const p = params();
  const sets = ['updated_at = now()'];
  if (change.status !== undefined) sets.push(`status = ${p.bind(change.status)}`);
  if (change.startedAt !== undefined) sets.push(`started_at = ${p.bind(change.startedAt)}::timestamptz`);
  if (change.finishedAt !== undefined) sets.push(`finished_at = ${p.bind(change.finishedAt)}::timestamptz`);
  if (change.error !== undefined) sets.push(`error = ${p.bind(change.error)}`);
  const { rows } = await db.query<{ id: string }>(
    `UPDATE runs SET ${sets.join(', ')} WHERE id = ${p.bind(change.id)} RETURNING id`,
    p.values,
  );
  if (rows.length === 0) throw new NotFoundError('run', change.id);
}

async function upsertStep(db: SqlExecutor, s: StepRecord): Promise<void> {
  await db.query(
    `INSERT INTO steps (run_id, step, status, attempts, started_at, finished_at, rows_written, reason)
     VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8)
     ON CONFLICT (run_id, step) DO UPDATE SET
       status = EXCLUDED.status, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at,
       finished_at = EXCLUDED.finished_at, rows_written = EXCLUDED.rows_written, reason = EXCLUDED.reason`,
    [s.runId, s.step, s.status, s.attempts, s.startedAt, s.finishedAt, s.rowsWritten, s.reason],
  );
}

async function upsertAttempt(db: SqlExecutor, a: AttemptRecord): Promise<void> {
  await db.query(
    `INSERT INTO attempts (id, run_id, step, attempt, status, started_at, finished_at, error, rows_written, failure)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, $9, $10::text::jsonb)
     ON CONFLICT (id) DO UPDATE SET
       run_id = EXCLUDED.run_id, step = EXCLUDED.step, attempt = EXCLUDED.attempt,
       status = EXCLUDED.status, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
       error = EXCLUDED.error, rows_written = EXCLUDED.rows_written, failure = EXCLUDED.failure`,
    [a.id, a.runId, a.step, a.attempt, a.status, a.startedAt, a.finishedAt, a.error, a.rowsWritten,
      a.failure ? json(a.failure, 'failure') : null],
  );
}

async function appendEvent(db: SqlExecutor, e: NewEvent): Promise<EventRecord> {
  const { rows } = await db.query<EventRow>(
    `INSERT INTO events (run_id, type, step, attempt_id, ts, payload)
     VALUES ($1, $2, $3, $4, $5::timestamptz, $6::text::jsonb)
     RETURNING *`,
    [e.runId, e.type, e.step, e.attemptId, e.ts, json(e.payload ?? {}, 'payload')],
  );
  return toEvent(rows[0]!);
}

async function insertMaterialization(db: SqlExecutor, m: MaterializationRecord): Promise<void> {
  await db.query(
    `INSERT INTO materializations (run_id, step, asset, partition, rows, metadata, ts)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::timestamptz)`,
    [m.runId, m.step, m.asset, m.partition, m.rows, json(m.metadata ?? {}, 'metadata'), m.ts],
  );
}

async function insertCheckResult(db: SqlExecutor, c: CheckResultRecord): Promise<void> {
  await db.query(
    `INSERT INTO check_results (run_id, step, asset, check_name, partition, severity, passed, message, value, ts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz)`,
    [c.runId, c.step, c.asset, c.check, c.partition, c.severity, c.passed, c.message, c.value, c.ts],
  );
}

async function upsertOffset(db: SqlExecutor, o: StreamOffset): Promise<void> {
  await db.query(
    `INSERT INTO stream_offsets (stream, topic, partition, next_offset, pending_end, run_id, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)
     ON CONFLICT (stream, topic, partition) DO UPDATE SET
       next_offset = EXCLUDED.next_offset, pending_end = EXCLUDED.pending_end, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at`,
    [o.stream, o.topic, o.partition, o.offset, o.pendingEnd, o.runId, o.updatedAt],
  );
}
