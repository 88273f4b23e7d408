import type {
  AssetHistory,
  AssetHistoryFilter,
  AttemptRecord,
  CheckResultRecord,
  EventFilter,
  EventRecord,
  GaugeValue,
  MaterializationRecord,
  MetadataStore,
  NewEvent,
  NewRun,
  PartitionStatus,
  RunDetail,
  RunFilter,
  RunPatch,
  RunRecord,
  StepRecord,
  WriteBatch,
} from '../../ports/metadata-store.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts';
import { applyMigrations } from './migrations.ts';
import { uniqueViolation, type SqlClient, type SqlExecutor } from './sql-client.ts';
import { SqlScheduleStore } from './sql-schedule-store.ts';
import { SqlTokenStore } from './sql-token-store.ts';
import {
  toAttempt, toCheckResult, toEvent, toGauge, toMaterialization, toPartition, toRun, toStep,
  type AttemptRow, type CheckResultRow, type EventRow, type GaugeRow, type MaterializationRow,
  type PartitionRow, type RunRow, type StepRow,
} from './rows.ts';

const DEFAULT_RUN_LIMIT = 50;

/** Collects bound values and hands back their placeholders, so no value enters SQL text. */
function params(): { values: unknown[]; bind: (value: unknown) => string } {
  const values: unknown[] = [];
  return { values, bind: (value) => `$${values.push(value)}` };
}

const where = (clauses: readonly string[]): string =>
  clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;

function limitOf(limit: number | undefined, fallback: number | null): number | null {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(`limit must be a non-negative integer, got ${limit}`, 'limit');
  }
  return limit;
}

/** jsonb goes in as text so both drivers pass it through unchanged (pg would turn arrays into SQL arrays). */
function json(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new ValidationError(`${what} is not JSON-serialisable`, what);
  return text;
}

// Keyset pagination compares createdAt as the port sees it; stored microseconds beyond
// the ISO string would make a cursor skip runs created in the same millisecond.
const CREATED_AT = (p: string) => `date_trunc('milliseconds', COALESCE(${p}::timestamptz, now()))`;

/** The MetadataStore on any PostgreSQL dialect speaker (PGlite, `pg`). */
export class SqlMetadataStore implements MetadataStore {
  readonly #db: SqlClient;
  readonly tokens: SqlTokenStore;
  readonly schedules: SqlScheduleStore;

  constructor(db: SqlClient) {
    this.#db = db;
    this.tokens = new SqlTokenStore(db);
    this.schedules = new SqlScheduleStore(db);
  }

  async migrate(): Promise<void> {
    await applyMigrations(this.#db);
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    try {
      const { rows } = await this.#db.query<RunRow>(
        `INSERT INTO runs (id, pipeline, partition, params, status, backfill_id, parent_run_id, root_run_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, ${CREATED_AT('$9')}, ${CREATED_AT('$9')})
         RETURNING *`,
        [run.id, run.pipeline, run.partition, json(run.params ?? {}, 'params'), run.status ?? 'queued',
          run.backfillId ?? null, run.parentRunId ?? null, run.rootRunId ?? null, run.createdAt ?? null],
      );
      return toRun(rows[0]!);
    } catch (err) {
      if (uniqueViolation(err) === 'runs_pkey') throw new ConflictError(`run ${run.id} already exists`);
      throw err;
    }
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    const p = params();
    const sets = ['updated_at = now()'];
    if (patch.status !== undefined) sets.push(`status = ${p.bind(patch.status)}`);
    if (patch.startedAt !== undefined) sets.push(`started_at = ${p.bind(patch.startedAt)}::timestamptz`);
    if (patch.finishedAt !== undefined) sets.push(`finished_at = ${p.bind(patch.finishedAt)}::timestamptz`);
    if (patch.error !== undefined) sets.push(`error = ${p.bind(patch.error)}`);
    const { rows } = await this.#db.query<{ id: string }>(
      `UPDATE runs SET ${sets.join(', ')} WHERE id = ${p.bind(id)} RETURNING id`,
      p.values,
    );
    if (rows.length === 0) throw new NotFoundError('run', id);
  }

  async getRun(id: string): Promise<RunDetail | undefined> {
    const runs = await this.#db.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
    const run = runs.rows[0];
    if (!run) return undefined;
    const steps = await this.#db.query<StepRow>('SELECT * FROM steps WHERE run_id = $1 ORDER BY seq', [id]);
    // Attempts follow the steps' own order; an attempt whose step was never recorded goes last.
    const attempts = await this.#db.query<AttemptRow>(
      `SELECT a.* FROM attempts a
       LEFT JOIN steps s ON s.run_id = a.run_id AND s.step = a.step
       WHERE a.run_id = $1
       ORDER BY s.seq NULLS LAST, a.step, a.attempt, a.id`,
      [id],
    );
    return { run: toRun(run), steps: steps.rows.map(toStep), attempts: attempts.rows.map(toAttempt) };
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const p = params();
    const clauses: string[] = [];
    if (filter.pipeline !== undefined) clauses.push(`pipeline = ${p.bind(filter.pipeline)}`);
    if (filter.status !== undefined) clauses.push(`status = ${p.bind(filter.status)}`);
    if (filter.partition !== undefined) clauses.push(`partition = ${p.bind(filter.partition)}`);
    if (filter.backfillId !== undefined) clauses.push(`backfill_id = ${p.bind(filter.backfillId)}`);
    if (filter.createdFrom !== undefined) clauses.push(`created_at >= ${p.bind(filter.createdFrom)}::timestamptz`);
    if (filter.createdTo !== undefined) clauses.push(`created_at < ${p.bind(filter.createdTo)}::timestamptz`);
    if (filter.before !== undefined) {
      clauses.push(`(created_at, id) < (${p.bind(filter.before.createdAt)}::timestamptz, ${p.bind(filter.before.id)})`);
    }
    const limit = limitOf(filter.limit, DEFAULT_RUN_LIMIT);
    const { rows } = await this.#db.query<RunRow>(
      `SELECT * FROM runs ${where(clauses)} ORDER BY created_at DESC, id DESC LIMIT ${p.bind(limit)}`,
      p.values,
    );
    return rows.map(toRun);
  }

  async upsertStep(s: StepRecord): Promise<void> {
    await this.#upsertStep(this.#db, s);
  }

  async #upsertStep(db: SqlExecutor, s: StepRecord): Promise<void> {
    await db.query(
      `INSERT INTO steps (run_id, step, status, attempts, started_at, finished_at, rows_written, reason)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8)
       ON CONFLICT (run_id, step) DO UPDATE SET
         status = EXCLUDED.status, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at,
         finished_at = EXCLUDED.finished_at, rows_written = EXCLUDED.rows_written, reason = EXCLUDED.reason`,
      [s.runId, s.step, s.status, s.attempts, s.startedAt, s.finishedAt, s.rowsWritten, s.reason],
    );
  }

  async upsertAttempt(a: AttemptRecord): Promise<void> {
    await this.#upsertAttempt(this.#db, a);
  }

  async #upsertAttempt(db: SqlExecutor, a: AttemptRecord): Promise<void> {
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

  async appendEvent(e: NewEvent): Promise<EventRecord> {
    return this.#appendEvent(this.#db, e);
  }

  /** Several writes in one transaction: one commit instead of one per statement. */
  async writeBatch(batch: WriteBatch): Promise<EventRecord[]> {
    const { attempts = [], steps = [], events = [], materializations = [], checks = [] } = batch;
    if (attempts.length + steps.length + events.length + materializations.length + checks.length === 0) return [];
    return this.#db.transaction(async (tx) => {
      for (const a of attempts) await this.#upsertAttempt(tx, a);
      for (const s of steps) await this.#upsertStep(tx, s);
      const out: EventRecord[] = [];
      for (const e of events) out.push(await this.#appendEvent(tx, e));
      for (const m of materializations) await this.#insertMaterialization(tx, m);
      for (const c of checks) await this.#insertCheckResult(tx, c);
      return out;
    });
  }

  async #appendEvent(db: SqlExecutor, e: NewEvent): Promise<EventRecord> {
    const { rows } = await db.query<EventRow>(
      `INSERT INTO events (run_id, type, step, attempt_id, ts, payload)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6::text::jsonb)
       RETURNING *`,
      [e.runId, e.type, e.step, e.attemptId, e.ts, json(e.payload ?? {}, 'payload')],
    );
    return toEvent(rows[0]!);
  }

  async listEvents(filter: EventFilter = {}): Promise<EventRecord[]> {
    const p = params();
    const clauses: string[] = [];
    if (filter.runId !== undefined) clauses.push(`run_id = ${p.bind(filter.runId)}`);
    if (filter.afterId !== undefined) clauses.push(`id > ${p.bind(filter.afterId)}`);
    const limit = limitOf(filter.limit, null);
    const order = filter.newestFirst ? 'id DESC' : 'id';
    const { rows } = await this.#db.query<EventRow>(
      `SELECT * FROM events ${where(clauses)} ORDER BY ${order}${limit === null ? '' : ` LIMIT ${p.bind(limit)}`}`,
      p.values,
    );
    return rows.map(toEvent);
  }

  async recordMaterialization(m: MaterializationRecord): Promise<void> {
    await this.#insertMaterialization(this.#db, m);
  }

  async #insertMaterialization(db: SqlExecutor, m: MaterializationRecord): Promise<void> {
    await db.query(
      `INSERT INTO materializations (run_id, step, asset, partition, rows, metadata, ts)
       VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::timestamptz)`,
      [m.runId, m.step, m.asset, m.partition, m.rows, json(m.metadata ?? {}, 'metadata'), m.ts],
    );
  }

  async recordCheckResult(c: CheckResultRecord): Promise<void> {
    await this.#insertCheckResult(this.#db, c);
  }

  async #insertCheckResult(db: SqlExecutor, c: CheckResultRecord): Promise<void> {
    await db.query(
      `INSERT INTO check_results (run_id, step, asset, check_name, partition, severity, passed, message, value, ts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz)`,
      [c.runId, c.step, c.asset, c.check, c.partition, c.severity, c.passed, c.message, c.value, c.ts],
    );
  }

  async assetHistory(filter: AssetHistoryFilter = {}): Promise<AssetHistory> {
    const p = params();
    const clauses: string[] = [];
    if (filter.asset !== undefined) clauses.push(`asset = ${p.bind(filter.asset)}`);
    if (filter.partition !== undefined) clauses.push(`partition = ${p.bind(filter.partition)}`);
    if (filter.runId !== undefined) clauses.push(`run_id = ${p.bind(filter.runId)}`);
    const limit = limitOf(filter.limit, null);
    const tail = `${where(clauses)} ORDER BY ts DESC, id DESC${limit === null ? '' : ` LIMIT ${p.bind(limit)}`}`;
    const materializations = await this.#db.query<MaterializationRow>(`SELECT * FROM materializations ${tail}`, p.values);
    const checks = await this.#db.query<CheckResultRow>(`SELECT * FROM check_results ${tail}`, p.values);
    return {
      materializations: materializations.rows.map(toMaterialization),
      checks: checks.rows.map(toCheckResult),
    };
  }

  async latestMaterializations(assets: readonly string[]): Promise<MaterializationRecord[]> {
    if (assets.length === 0) return [];
    const { rows } = await this.#db.query<MaterializationRow>(
      `SELECT DISTINCT ON (asset) * FROM materializations WHERE asset = ANY($1::text[]) ORDER BY asset, ts DESC, id DESC`,
      [[...assets]],
    );
    return rows.map(toMaterialization);
  }

  async listPartitions(pipeline: string): Promise<PartitionStatus[]> {
    const { rows } = await this.#db.query<PartitionRow>(
      `SELECT DISTINCT ON (partition) partition, status, id, updated_at
       FROM runs WHERE pipeline = $1 AND partition IS NOT NULL
       ORDER BY partition, created_at DESC, id DESC`,
      [pipeline],
    );
    return rows.map(toPartition);
  }

  async getCheckpoint(key: string): Promise<unknown> {
    const { rows } = await this.#db.query<{ value: unknown }>('SELECT value FROM checkpoints WHERE key = $1', [key]);
    return rows.length === 0 ? undefined : rows[0]!.value;
  }

  async putCheckpoint(key: string, value: unknown): Promise<void> {
    await this.#db.query(
      `INSERT INTO checkpoints (key, value, updated_at) VALUES ($1, $2::text::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
      [key, json(value, 'checkpoint value')],
    );
  }

  async putGauges(values: readonly GaugeValue[]): Promise<void> {
    if (values.length === 0) return;
    await this.#db.transaction(async (tx) => {
      for (const g of values) {
        await tx.query(
          `INSERT INTO gauges (name, labels, help, value, updated_at, kind)
           VALUES ($1, $2::text::jsonb, $3, $4, $5::timestamptz, $6)
           ON CONFLICT (name, labels) DO UPDATE SET
             help = EXCLUDED.help, value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, kind = EXCLUDED.kind`,
          [g.name, json(g.labels ?? {}, 'labels'), g.help, g.value, g.updatedAt, g.kind ?? 'gauge'],
        );
      }
    });
  }

  async listGauges(): Promise<GaugeValue[]> {
    const { rows } = await this.#db.query<GaugeRow>('SELECT * FROM gauges ORDER BY name, labels');
    return rows.map(toGauge);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
