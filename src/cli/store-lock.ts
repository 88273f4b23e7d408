import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '../core/errors.ts';
import type { SluiceConfig } from '../presets/config.ts';
import { processAlive as alive } from './process-alive.ts';

/** Who has the embedded stores of a state directory open, as recorded in `<home>/stores.lock`. */
export interface StoreOwner {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
  /** The kernel's start time of `pid` (Linux), so a reused pid is not taken for the owner. */
  readonly started: string | null;
}

const lockPath = (home: string) => join(home, 'stores.lock');

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name before it is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isLive(owner: StoreOwner): boolean {
  if (!alive(owner.pid)) return false;
  return owner.started === null || startTimeOf(owner.pid) === null || startTimeOf(owner.pid) === owner.started;
}

/** The live process recorded as holding the embedded stores, if any. */
export function storeOwner(home: string): StoreOwner | undefined {
  let owner: StoreOwner;
  try {
    owner = JSON.parse(readFileSync(lockPath(home), 'utf8')) as StoreOwner;
  } catch {
    return undefined;
  }
  return Number.isInteger(owner.pid) && owner.pid !== process.pid && isLive(owner) ? owner : undefined;
}

/**
 * The pid holding chDB's lock on `<home>/warehouse/status` (another engine instance, maybe
 * not a sluice command): from the kernel's lock table on Linux, else from the pid chDB
 * writes into that file. chDB itself would fail on it and then hang.
 */
export function warehouseLockHolder(home: string): number | undefined {
  const status = join(home, 'warehouse', 'status');
  const st = statSync(status, { throwIfNoEntry: false });
  if (!st) return undefined;
  let table: string | null;
  try {
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    table = null;
  }
  if (table !== null) {
    for (const line of table.split('\n')) {
      const m = /^\d+:\s+(?:FLOCK|POSIX)\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
      if (m && Number(m[2]) === st.ino && Number(m[1]) !== process.pid) return Number(m[1]);
    }
    return undefined;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(readFileSync(status, 'utf8'))?.[1]);
  return Number.isInteger(pid) && pid !== process.pid && alive(pid) ? pid : undefined;
}

const usesEmbeddedStores = (config: SluiceConfig) => config.metadata.kind === 'pglite' || config.warehouse.kind === 'chdb';

function busy(home: string, pid: number, what: string): ConflictError {
  return new ConflictError(
    `the embedded stores in ${home} are in use by pid ${pid} (${what}); PGlite and chDB open in one process at a time. `
      + `Wait for it to finish, or stop it (kill ${pid}), then run this again`,
  );
}

/**
 * Claims the embedded stores of `config.home` for this process before they are opened, or
 * fails at once naming the process that has them; returns the release. Nothing to claim
 * when both stores are servers.
 */
export function claimStores(config: SluiceConfig, command: string): () => void {
  if (!usesEmbeddedStores(config)) return () => undefined;
  const home = config.home;
  const path = lockPath(home);
  const mine: StoreOwner = { pid: process.pid, command, since: new Date().toISOString(), started: startTimeOf(process.pid) };
  mkdirSync(home, { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(path, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = storeOwner(home);
      if (owner) throw busy(home, owner.pid, owner.command);
      // Another process is between creating the file and writing it, or took it over first.
      if (tries > 0) throw new ConflictError(`another process is opening the embedded stores in ${home} right now; run this again`);
      // Left by a process that died: take it over.
      rmSync(path, { force: true });
    }
  }
  const release = () => {
    if (storeOwnerRaw(home)?.pid === process.pid) rmSync(path, { force: true });
  };
  const holder = warehouseLockHolder(home);
  if (holder !== undefined) {
    release();
    throw busy(home, holder, 'it holds the chDB lock on warehouse/status');
  }
  return release;
}

function storeOwnerRaw(home: string): StoreOwner | undefined {
  try {
    return JSON.parse(readFileSync(lockPath(home), 'utf8')) as StoreOwner;
  } catch {
    return undefined;
  }
}
