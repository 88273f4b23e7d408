import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sleep } from './api.ts';
import { processAlive as alive } from '../../src/cli/process-alive.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The services' cache directory, by the same rule as scripts/*.sh. */
const cache = () => process.env.SLUICE_CACHE ?? join(homedir(), '.cache', 'sluice');
const pidFile = () => join(cache(), 'kafka', 'kafka.pid');

/** Whether scripts/postgres.sh's server is up (its postmaster.pid names a live process). */
export function postgresRunning(): boolean {
  try {
    const pid = Number(readFileSync(join(cache(), 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && alive(pid);
  } catch {
    return false;
  }
}

/** The broker scripts/kafka.sh started, while that pid is still a Kafka broker. */
export function brokerPid(): number | null {
  try {
    const pid = Number(readFileSync(pidFile(), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') ? pid : null;
  } catch {
    return null;
  }
}

/** SIGKILLs the broker; resolves with its pid once it is gone. */
export async function killBroker(): Promise<number> {
  const pid = brokerPid();
  if (pid === null) throw new Error(`no broker of scripts/kafka.sh is running (pid file ${pidFile()})`);
  process.kill(pid, 'SIGKILL');
  const end = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > end) throw new Error(`broker ${pid} still there 15 s after SIGKILL`);
    await sleep(50);
  }
  return pid;
}

/** Starts the broker again (`scripts/kafka.sh start`, which waits until it answers). */
export async function startBroker(): Promise<void> {
  await run('bash', [`${root}scripts/kafka.sh`, 'start'], { cwd: root, timeout: 180_000 });
}
