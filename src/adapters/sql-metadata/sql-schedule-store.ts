import { ValidationError } from '../../core/errors.ts';
import type {
  NewTick, ScheduleState, ScheduleStore, TickFilter, TickKey, TickOutcome, TickRecord, TickStatus,
} from '../../ports/schedule-store.ts';
import type { SqlClient } from './sql-client.ts';

const DEFAULT_TICK_LIMIT = 50;

type Ts = Date | string;
const iso = (v: Ts): string => (v instanceof Date ? v : new Date(v)).toISOString();
const isoOrNull = (v: Ts | null): string | null => (v === null ? null : iso(v));

interface TickRow {
  pipeline: string;
  schedule: string;
  tick_at: Ts;
  run_id: string;
  partition: string | null;
  status: string;
  reason: string | null;
  claimed_at: Ts;
  finished_at: Ts | null;
}

const toTick = (r: TickRow): TickRecord => ({
  pipeline: r.pipeline,
  schedule: r.schedule,
  tickAt: iso(r.tick_at),
  runId: r.run_id,
  partition: r.partition,
  status: r.status as TickStatus,
  reason: r.reason,
  claimedAt: iso(r.claimed_at),
  finishedAt: isoOrNull(r.finished_at),
});

interface StateRow {
  pipeline: string;
  schedule: string;
  enabled: boolean;
  evaluated_through: Ts | null;
  // The latest tick, joined in with a t_ prefix; all null when there is none.
  t_tick_at: Ts | null;
  t_run_id: string | null;
  t_partition: string | null;
  t_status: string | null;
  t_reason: string | null;
  t_claimed_at: Ts | null;
  t_finished_at: Ts | null;
}

const toState = (r: StateRow): ScheduleState => ({
  pipeline: r.pipeline,
  schedule: r.schedule,
  enabled: r.enabled,
  evaluatedThrough: isoOrNull(r.evaluated_through),
  lastTick: r.t_tick_at === null ? null : toTick({
    pipeline: r.pipeline, schedule: r.schedule, tick_at: r.t_tick_at, run_id: r.t_run_id!, partition: r.t_partition,
    status: r.t_status!, reason: r.t_reason, claimed_at: r.t_claimed_at!, finished_at: r.t_finished_at,
  }),
});

function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`${what} must be a non-negative integer, got ${n}`, what);
  return n;
}

/**
 * The ScheduleStore on the metadata store's SQL schema (migration 2). A tick's primary key
 * (pipeline, schedule, tick_at) is what makes a claim win exactly once.
 */
export class SqlScheduleStore implements ScheduleStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async claimTick(t: NewTick): Promise<boolean> {
    const { rows } = await this.#db.query(
      `INSERT INTO schedule_ticks (pipeline, schedule, tick_at, run_id, partition, status, claimed_at)
       VALUES ($1, $2, $3::timestamptz, $4, $5, 'claimed', $6::timestamptz)
       ON CONFLICT (pipeline, schedule, tick_at) DO NOTHING
       RETURNING run_id`,
      [t.pipeline, t.schedule, t.tickAt, t.runId, t.partition, t.claimedAt],
    );
    return rows.length === 1;
  }

  async finishTick(key: TickKey, outcome: TickOutcome, at: string): Promise<void> {
    const reason = outcome.status === 'submitted' ? null : outcome.reason;
    await this.#db.query(
      `UPDATE schedule_ticks SET status = $4, reason = $5, finished_at = $6::timestamptz
       WHERE pipeline = $1 AND schedule = $2 AND tick_at = $3::timestamptz AND status = 'claimed'`,
      [key.pipeline, key.schedule, key.tickAt, outcome.status, reason, at],
    );
  }

  async pendingTicks(claimedBefore: string, limit = DEFAULT_TICK_LIMIT): Promise<TickRecord[]> {
    const { rows } = await this.#db.query<TickRow>(
      `SELECT * FROM schedule_ticks WHERE status = 'claimed' AND claimed_at <= $1::timestamptz
       ORDER BY tick_at, pipeline, schedule LIMIT $2`,
      [claimedBefore, positiveInt(limit, 'limit')],
    );
    return rows.map(toTick);
  }

  async advance(pipeline: string, schedule: string, through: string): Promise<void> {
    await this.#db.query(
      `INSERT INTO schedule_states (pipeline, schedule, enabled, evaluated_through, updated_at)
       VALUES ($1, $2, true, $3::timestamptz, now())
       ON CONFLICT (pipeline, schedule) DO UPDATE SET
         evaluated_through = GREATEST(schedule_states.evaluated_through, EXCLUDED.evaluated_through),
         updated_at = now()`,
      [pipeline, schedule, through],
    );
  }

  async setEnabled(pipeline: string, schedule: string, enabled: boolean): Promise<void> {
    await this.#db.query(
      `INSERT INTO schedule_states (pipeline, schedule, enabled, evaluated_through, updated_at)
       VALUES ($1, $2, $3, NULL, now())
       ON CONFLICT (pipeline, schedule) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`,
      [pipeline, schedule, enabled],
    );
  }

  async listSchedules(pipeline?: string): Promise<ScheduleState[]> {
    const { rows } = await this.#db.query<StateRow>(
      `SELECT s.pipeline, s.schedule, s.enabled, s.evaluated_through,
              t.tick_at AS t_tick_at, t.run_id AS t_run_id, t.partition AS t_partition, t.status AS t_status,
              t.reason AS t_reason, t.claimed_at AS t_claimed_at, t.finished_at AS t_finished_at
       FROM schedule_states s
       LEFT JOIN LATERAL (
         SELECT * FROM schedule_ticks k WHERE k.pipeline = s.pipeline AND k.schedule = s.schedule
         ORDER BY k.tick_at DESC LIMIT 1
       ) t ON true
       WHERE $1::text IS NULL OR s.pipeline = $1::text
       ORDER BY s.pipeline, s.schedule`,
      [pipeline ?? null],
    );
    return rows.map(toState);
  }

  async listTicks(filter: TickFilter = {}): Promise<TickRecord[]> {
    const { rows } = await this.#db.query<TickRow>(
      `SELECT * FROM schedule_ticks
       WHERE ($1::text IS NULL OR pipeline = $1::text)
         AND ($2::text IS NULL OR schedule = $2::text)
         AND ($3::text IS NULL OR status = $3::text)
       ORDER BY tick_at DESC, pipeline, schedule LIMIT $4`,
      [filter.pipeline ?? null, filter.schedule ?? null, filter.status ?? null,
        positiveInt(filter.limit ?? DEFAULT_TICK_LIMIT, 'limit')],
    );
    return rows.map(toTick);
  }

  async pruneHistory(before: string, batchSize: number): Promise<number> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValidationError(`batchSize must be a positive integer, got ${batchSize}`, 'batchSize');
    }
    // Steps, attempts, events, materializations and check results go with their run
    // (ON DELETE CASCADE); one statement per batch keeps each transaction short. The
    // statuses are literals so the partial index runs_prune_idx applies.
    const { rows } = await this.#db.query<{ id: string }>(
      `DELETE FROM runs WHERE id IN (
         SELECT id FROM runs
         WHERE status IN ('succeeded', 'no_data', 'failed', 'cancelled') AND COALESCE(finished_at, created_at) < $1::timestamptz
         ORDER BY COALESCE(finished_at, created_at), id
         LIMIT $2
       ) RETURNING id`,
      [before, batchSize],
    );
    // A final tick at or before its schedule's evaluated-through instant is never
    // computed again, so forgetting it cannot make it fire twice.
    await this.#db.query(
      `DELETE FROM schedule_ticks WHERE (pipeline, schedule, tick_at) IN (
         SELECT k.pipeline, k.schedule, k.tick_at FROM schedule_ticks k
         JOIN schedule_states s ON s.pipeline = k.pipeline AND s.schedule = k.schedule
         WHERE k.status <> 'claimed' AND k.tick_at < $1::timestamptz AND k.tick_at <= s.evaluated_through
         ORDER BY k.tick_at LIMIT $2
       )`,
      [before, batchSize],
    );
    return rows.length;
  }
}
