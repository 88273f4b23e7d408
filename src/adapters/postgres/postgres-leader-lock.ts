import pg from 'pg';

export interface LeaderLock {
  /** Settles when the lock's session ends (the connection broke or stopped answering): leadership is gone. */
  readonly lost: Promise<Error>;
  release(): Promise<void>;
}

export interface LeaderLockOptions {
  readonly connectionString: string;
  /** What is led, e.g. the metadata schema: one leader per name. */
  readonly name: string;
  /** How often a standby tries again, and how often the leader checks its session. */
  readonly pollMs: number;
  /** Called once when the first try finds another leader. */
  readonly onStandby?: () => void;
  /** Stops waiting (resolves null). */
  readonly signal?: AbortSignal;
}

/**
 * Leadership as a PostgreSQL session-level advisory lock: held while this process's
 * session lives, released by PostgreSQL the moment the session ends (the process killed,
 * the connection cut), so a standby takes over within one poll. The leader checks its
 * session every poll and reports `lost` when it cannot, and must then stop acting.
 */
export async function acquirePostgresLeaderLock(o: LeaderLockOptions): Promise<LeaderLock | null> {
  let standby = false;
  while (!o.signal?.aborted) {
    const client = new pg.Client({ connectionString: o.connectionString, keepAlive: true, connectionTimeoutMillis: o.pollMs * 5, statement_timeout: o.pollMs * 5 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      for (;;) {
        if (o.signal?.aborted) break;
        const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`sluice-leader:${o.name}`]);
        if (r.rows[0]?.locked) return held(client, o.pollMs);
        if (!standby) {
          standby = true;
          o.onStandby?.();
        }
        await sleep(o.pollMs, o.signal);
      }
    } catch {
      // PostgreSQL away: try again after a pause, as a standby would.
      await sleep(o.pollMs, o.signal);
    }
    await client.end().catch(() => undefined);
  }
  return null;
}

function held(client: pg.Client, pollMs: number): LeaderLock {
  let settle: (e: Error) => void = () => undefined;
  const lost = new Promise<Error>((r) => (settle = r));
  let released = false;
  const fail = (why: string) => {
    if (released) return;
    clearInterval(check);
    settle(new Error(why));
    void client.end().catch(() => undefined);
  };
  client.on('error', (err) => fail(`the leader lock's connection failed: ${err.message}`));
  client.on('end', () => fail('the leader lock\'s connection ended'));
  const check = setInterval(() => {
    client.query('SELECT 1').catch((err: Error) => fail(`the leader lock's session does not answer: ${err.message}`));
  }, pollMs);
  check.unref();
  return {
    lost,
    async release() {
      released = true;
      clearInterval(check);
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
