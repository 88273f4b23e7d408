import type { SqlClient } from './sql-client.ts';

export interface Migration {
  /** Applied in increasing order; never renumber or edit one that has shipped. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema shared by PGlite and PostgreSQL. Each step is idempotent on its own
 * (IF NOT EXISTS) so a database created by hand or half-migrated still converges.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, attempts, events, assets, checkpoints, gauges',
    sql: `
      CREATE TABLE IF NOT EXISTS runs (
        id          text PRIMARY KEY,
        pipeline    text NOT NULL,
        partition   text,
        params      jsonb NOT NULL DEFAULT '{}'::jsonb,
        status      text NOT NULL,
        created_at  timestamptz NOT NULL,
        started_at  timestamptz,
        finished_at timestamptz,
        error       text,
        backfill_id text,
        updated_at  timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS runs_created_idx ON runs (created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS runs_pipeline_created_idx ON runs (pipeline, created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS runs_pipeline_partition_idx
        ON runs (pipeline, partition, created_at DESC, id DESC) WHERE partition IS NOT NULL;
      CREATE INDEX IF NOT EXISTS runs_backfill_idx
        ON runs (backfill_id, created_at DESC, id DESC) WHERE backfill_id IS NOT NULL;

      CREATE TABLE IF NOT EXISTS steps (
        run_id       text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step         text NOT NULL,
        -- Not touched by an upsert, so it keeps the order in which steps first appeared.
        seq          bigint GENERATED ALWAYS AS IDENTITY,
        status       text NOT NULL,
        attempts     integer NOT NULL,
        started_at   timestamptz,
        finished_at  timestamptz,
        rows_written bigint NOT NULL,
        reason       text,
        PRIMARY KEY (run_id, step)
      );

      CREATE TABLE IF NOT EXISTS attempts (
        id           text PRIMARY KEY,
        run_id       text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step         text NOT NULL,
        attempt      integer NOT NULL,
        status       text NOT NULL,
        started_at   timestamptz NOT NULL,
        finished_at  timestamptz,
        error        text,
        rows_written bigint NOT NULL
      );
      CREATE INDEX IF NOT EXISTS attempts_run_idx ON attempts (run_id, step, attempt);

      CREATE TABLE IF NOT EXISTS events (
        id         bigserial PRIMARY KEY,
        run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        type       text NOT NULL,
        step       text,
        attempt_id text,
        ts         timestamptz NOT NULL,
        payload    jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX IF NOT EXISTS events_run_idx ON events (run_id, id);

      CREATE TABLE IF NOT EXISTS materializations (
        id        bigserial PRIMARY KEY,
        run_id    text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step      text NOT NULL,
        asset     text NOT NULL,
        partition text,
        rows      bigint NOT NULL,
        metadata  jsonb NOT NULL DEFAULT '{}'::jsonb,
        ts        timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS materializations_asset_idx
        ON materializations (asset, partition, ts DESC, id DESC);
      CREATE INDEX IF NOT EXISTS materializations_run_idx ON materializations (run_id);

      CREATE TABLE IF NOT EXISTS check_results (
        id         bigserial PRIMARY KEY,
        run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step       text NOT NULL,
        asset      text NOT NULL,
        check_name text NOT NULL,
        partition  text,
        severity   text NOT NULL,
        passed     boolean NOT NULL,
        message    text NOT NULL,
        value      double precision,
        ts         timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS check_results_asset_idx
        ON check_results (asset, partition, ts DESC, id DESC);
      CREATE INDEX IF NOT EXISTS check_results_run_idx ON check_results (run_id);

      CREATE TABLE IF NOT EXISTS checkpoints (
        key        text PRIMARY KEY,
        value      jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      );

      -- jsonb equality ignores key order, so {a,b} and {b,a} label sets are one gauge.
      CREATE TABLE IF NOT EXISTS gauges (
        name       text NOT NULL,
        labels     jsonb NOT NULL,
        help       text NOT NULL,
        value      double precision NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (name, labels)
      );
    `,
  },
  {
    version: 2,
    name: 'schedule states and ticks; run pruning index',
    sql: `
      CREATE TABLE IF NOT EXISTS schedule_states (
        pipeline          text NOT NULL,
        schedule          text NOT NULL,
        enabled           boolean NOT NULL DEFAULT true,
        -- Every tick at or before this instant has been evaluated (claimed or dropped).
        evaluated_through timestamptz,
        updated_at        timestamptz NOT NULL,
        PRIMARY KEY (pipeline, schedule)
      );

      -- The primary key is the claim: whoever inserts a tick first submits it.
      CREATE TABLE IF NOT EXISTS schedule_ticks (
        pipeline    text NOT NULL,
        schedule    text NOT NULL,
        tick_at     timestamptz NOT NULL,
        run_id      text NOT NULL,
        partition   text,
        status      text NOT NULL,
        reason      text,
        claimed_at  timestamptz NOT NULL,
        finished_at timestamptz,
        PRIMARY KEY (pipeline, schedule, tick_at)
      );
      CREATE INDEX IF NOT EXISTS schedule_ticks_claimed_idx ON schedule_ticks (claimed_at) WHERE status = 'claimed';
      CREATE INDEX IF NOT EXISTS schedule_ticks_tick_idx ON schedule_ticks (tick_at);

      -- Retention deletes finished runs oldest first.
      CREATE INDEX IF NOT EXISTS runs_prune_idx ON runs ((COALESCE(finished_at, created_at)), id)
        WHERE status IN ('succeeded', 'failed', 'cancelled');
    `,
  },
  {
    version: 3,
    name: 'api tokens',
    sql: `
      -- Only a hash of each secret is kept; the unique hash index also serves the lookup
      -- on every API call.
      CREATE TABLE IF NOT EXISTS api_tokens (
        id           text PRIMARY KEY,
        name         text NOT NULL,
        role         text NOT NULL CHECK (role IN ('view', 'edit', 'admin')),
        hash         text NOT NULL UNIQUE,
        created_at   timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at   timestamptz
      );
      -- Names are unique among active tokens only, so a revoked name can be reused.
      CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_active_name_idx ON api_tokens (name) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 4,
    name: 'retry lineage of runs, failure details of attempts, counter totals',
    sql: `
      -- No foreign keys: retention prunes a parent before its retries, and where a run came
      -- from stays worth knowing after that.
      ALTER TABLE runs ADD COLUMN IF NOT EXISTS parent_run_id text;
      ALTER TABLE runs ADD COLUMN IF NOT EXISTS root_run_id text;
      ALTER TABLE attempts ADD COLUMN IF NOT EXISTS failure jsonb;
      -- Counters share the table: a name is one kind of metric, and restoring both at start
      -- is one read.
      ALTER TABLE gauges ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'gauge';
    `,
  },
  {
    version: 5,
    name: 'no_data runs are finished runs for retention',
    sql: `
      -- The partial index's statuses must match pruneHistory's literals for it to apply.
      DROP INDEX IF EXISTS runs_prune_idx;
      CREATE INDEX runs_prune_idx ON runs ((COALESCE(finished_at, created_at)), id)
        WHERE status IN ('succeeded', 'no_data', 'failed', 'cancelled');
    `,
  },
  {
    version: 6,
    name: 'drop the checkpoints table',
    sql: `
      -- Nothing ever wrote it: streaming offsets live in the bus's consumer groups, and a
      -- checkpoint table comes back with the feature that reads it.
      DROP TABLE IF EXISTS checkpoints;
    `,
  },
  {
    version: 7,
    name: 'leader epoch: fences off the writes of a control plane that no longer leads',
    sql: `
      CREATE TABLE IF NOT EXISTS leader_epoch (
        id    smallint PRIMARY KEY CHECK (id = 1),
        epoch bigint NOT NULL
      );
      INSERT INTO leader_epoch (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    `,
  },
  {
    version: 8,
    name: 'stream offsets: where each stream stands on each partition it reads',
    sql: `
      -- Offsets live here, not in the broker's consumer groups, so they are written in the
      -- same transaction as the events that report them and survive a change of broker.
      CREATE TABLE IF NOT EXISTS stream_offsets (
        stream      text        NOT NULL,
        topic       text        NOT NULL,
        partition   integer     NOT NULL,
        next_offset bigint      NOT NULL,
        pending_end bigint,
        run_id      text        NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (stream, topic, partition)
      );
    `,
  },
];

/**
 * Serialises concurrent migrators (two coordinators starting at once) on one database;
 * CREATE ... IF NOT EXISTS alone can still race on the catalog.
 */
const MIGRATION_LOCK = 0x5_1c3_0001;

/** Applies the missing migrations in one transaction; returns the versions applied. */
export async function applyMigrations(
  client: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
