import { ConflictError } from '../../core/errors.ts';
import type { RunStatus } from '../../core/states.ts';
import type {
  EventFilter, EventRecord, NewRun, PartitionRun, PartitionStatus, RunCount, RunCountFilter, RunDetail, RunFilter, RunHistory, RunRecord,
} from '../../ports/metadata-store.ts';
import { uniqueViolation, type SqlExecutor } from './sql-client.ts';
import { CREATED_AT, json, limitOf, params, where } from './sql-query-parts.ts';
import {
  toAttempt, toEvent, toPartition, toPartitionRun, toRun, toStep,
  type AttemptRow, type EventRow, type PartitionRow, type PartitionRunRow, type RunRow, type StepRow,
} from './rows.ts';

const DEFAULT_RUN_LIMIT = 50;

/** The newest run of each partition key of pipeline $1 that `keys` lets through. */
const latestPerPartition = (keys: string) => `SELECT DISTINCT ON (partition) partition, status, id, updated_at
  FROM runs WHERE pipeline = $1 AND ${keys}
  ORDER BY partition, created_at DESC, id DESC`;

/** Runs, steps, attempts and events on any PostgreSQL dialect speaker. */
export class SqlRunHistory implements RunHistory {
  readonly #db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async create(run: NewRun): Promise<RunRecord> {
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

  async get(id: string): Promise<RunDetail | undefined> {
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

  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
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

  async counts(filter: RunCountFilter): Promise<RunCount[]> {
    const p = params();
    const from = p.bind(filter.from);
    const clauses = [`created_at >= ${from}::timestamptz`, `created_at < ${p.bind(filter.to)}::timestamptz`];
    if (filter.pipeline !== undefined) clauses.push(`pipeline = ${p.bind(filter.pipeline)}`);
    const { rows } = await this.#db.query<{ bucket: number | string; status: RunStatus; n: number | string }>(
      `SELECT floor(extract(epoch FROM created_at - ${from}::timestamptz) * 1000 / ${p.bind(filter.bucketMs)})::int AS bucket, status, count(*)::int AS n
       FROM runs ${where(clauses)} GROUP BY 1, 2 ORDER BY 1, 2`,
      p.values,
    );
    return rows.map((r) => ({ bucket: Number(r.bucket), status: r.status, count: Number(r.n) }));
  }

  async partitions(pipeline: string): Promise<PartitionStatus[]> {
    const { rows } = await this.#db.query<PartitionRow>(latestPerPartition('partition IS NOT NULL'), [pipeline]);
    return rows.map(toPartition);
  }

  async partitionRuns(pipeline: string, from: string, to: string): Promise<PartitionRun[]> {
    const { rows } = await this.#db.query<PartitionRunRow>(
      `SELECT l.partition, l.status, l.id, l.updated_at,
              COALESCE((SELECT jsonb_agg(jsonb_build_object('step', s.step, 'status', s.status, 'reason', s.reason) ORDER BY s.seq)
                        FROM steps s WHERE s.run_id = l.id), '[]'::jsonb) AS steps
       FROM (${latestPerPartition('partition >= $2 AND partition <= $3')}) l
       ORDER BY l.partition`,
      [pipeline, from, to],
    );
    return rows.map(toPartitionRun);
  }

  async events(filter: EventFilter = {}): Promise<EventRecord[]> {
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
}
