import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The fixed test credentials scripts/minio.sh starts MinIO with. */
export const MINIO_CREDENTIALS = { accessKeyId: 'sluice', secretAccessKey: 'sluice-secret' } as const;

/**
 * The SASL_PLAINTEXT (SCRAM-SHA-512) listener of scripts/kafka.sh and the users it creates,
 * with their fixed test passwords.
 */
export const KAFKA_SCRAM = {
  bootstrap: '127.0.0.1:29094',
  users: { 'sluice-test': 'sluice-test-secret', 'sluice-control-plane': 'control-plane-secret', 'sluice-worker': 'worker-secret', 'sluice-connector': 'connector-secret' },
} as const;

export type ServiceName = 'postgres' | 'pushgateway' | 'kafka' | 'minio' | 'clickhouse' | 'kubernetes';

/** Exit code a `scripts/<name>.sh start` uses to say "not installed on this machine". */
const NOT_INSTALLED = 3;

/**
 * Starts (or reuses) a real service through `scripts/<name>.sh start`, which prints the
 * connection URL. The scripts keep one instance per machine and record who started it;
 * `test/helpers/global-setup.ts` stops it after the run.
 *
 * Off CI, a service that is not installed skips the test; with CI=true it fails it,
 * because a skipped integration test must not look like a passing one.
 */
export async function service(name: ServiceName, t?: TestContext): Promise<string | undefined> {
  try {
    const { stdout } = await run('bash', [`${root}scripts/${name}.sh`, 'start'], { cwd: root, timeout: 240_000 });
    const url = stdout.trim().split('\n').pop();
    if (!url) throw new Error(`scripts/${name}.sh start printed no URL`);
    return url;
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    if (e.code === NOT_INSTALLED && process.env.CI !== 'true') {
      t?.skip(`${name} is not installed here (run scripts/${name}.sh install)`);
      return undefined;
    }
    throw new Error(`could not start ${name}: ${e.stderr ?? String(err)}`, { cause: err });
  }
}

/** Stops every service this checkout's scripts started. */
export async function stopServices(names: readonly ServiceName[]): Promise<void> {
  for (const name of names) {
    await run('bash', [`${root}scripts/${name}.sh`, 'stop'], { cwd: root }).catch(() => undefined);
  }
}
