import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive as alive } from './process-alive.ts';

/** What a running server leaves in its state directory so CLI commands go through it. */
export interface ServerFile {
  readonly pid: number;
  readonly url: string;
  readonly mode: 'dev' | 'server';
  readonly startedAt: string;
}

const path = (home: string) => join(home, 'server.json');

export function writeServerFile(home: string, info: ServerFile): void {
  writeFileSync(path(home), `${JSON.stringify(info, null, 2)}\n`);
}

export function removeServerFile(home: string, pid: number): void {
  const cur = readServerFile(home);
  if (cur?.pid === pid) rmSync(path(home), { force: true });
}

/** The server that owns this state directory, if one is running (its process is alive). */
export function readServerFile(home: string): ServerFile | undefined {
  if (!existsSync(path(home))) return undefined;
  try {
    const info = JSON.parse(readFileSync(path(home), 'utf8')) as ServerFile;
    return alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}
