import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from './api.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 30_000;

export interface ControlPlaneOptions {
  readonly home: string;
  /** `dev`: embedded stores, local-dev mode; `server`: stores from `env`, tokens required. */
  readonly mode: 'dev' | 'server';
  readonly env: Readonly<Record<string, string>>;
  /** Everything the process and its workers print goes here, for the post-mortem of a violation. */
  readonly logFile: string;
}

/** A free loopback port below the ephemeral range (other engineers' clients own that range). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // ppid is the second field after the parenthesised command name, which may hold spaces.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * `sluice dev` or `sluice server` as a child of the campaign, restartable on the same state
 * directory and port. Only this child (and the workers it forks) are ever killed.
 */
export class ControlPlaneProcess {
  readonly #opts: ControlPlaneOptions;
  readonly #log: WriteStream;
  #child: ChildProcess | null = null;
  #port = 0;
  /** Set by kill and stop: any other exit of a started control plane is a crash of its own. */
  #exitExpected = false;
  starts = 0;
  /** Told when a control plane that was up exits without having been killed or stopped. */
  onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null = null;

  constructor(opts: ControlPlaneOptions) {
    this.#opts = opts;
    this.#log = createWriteStream(opts.logFile, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get pid(): number | null {
    const c = this.#child;
    return c && c.exitCode === null && c.signalCode === null ? (c.pid ?? null) : null;
  }

  async start(): Promise<void> {
    let lastError: unknown;
    // The port is kept across restarts; another process may have taken it meanwhile.
    for (let tries = 0; tries < 3; tries++) {
      if (this.#port === 0 || tries > 0) this.#port = await freePort();
      try {
        await this.#spawn();
        this.starts += 1;
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  async #spawn(): Promise<void> {
    const { home, mode } = this.#opts;
    const args = mode === 'dev' ? ['dev', '--port', String(this.#port)] : ['server', '--host', '127.0.0.1', '--port', String(this.#port)];
    const child = spawn(process.execPath, ['src/cli/main.ts', '--home', home, ...args], {
      cwd: root, env: { PATH: process.env.PATH ?? '', ...this.#opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#log.write(`\n--- chaos: start #${this.starts + 1}, pid ${child.pid}, port ${this.#port}, ${new Date().toISOString()}\n`);
    child.stdout!.pipe(this.#log, { end: false });
    child.stderr!.pipe(this.#log, { end: false });
    let tail = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`control plane did not start within ${START_TIMEOUT_MS} ms (log: ${this.#opts.logFile})`));
      }, START_TIMEOUT_MS);
      const watch = (d: Buffer) => {
        tail = (tail + d.toString('utf8')).slice(-4096);
        if (!/ on http:\/\/\S+ \(state/.test(tail)) return;
        child.stdout!.off('data', watch);
        clearTimeout(timer);
        this.#exitExpected = false;
        child.once('exit', (code, signal) => {
          if (!this.#exitExpected && this.#child === child) this.onUnexpectedExit?.(code, signal);
        });
        resolve();
      };
      child.stdout!.on('data', watch);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`control plane exited (${signal ?? code}) before it was ready (log: ${this.#opts.logFile})`));
      });
    });
  }

  /** SIGKILL; resolves with the pid once the process is gone. */
  async kill(): Promise<number> {
    const child = this.#child;
    const pid = this.pid;
    if (!child || pid === null) throw new Error('the control plane is not running');
    this.#exitExpected = true;
    child.kill('SIGKILL');
    if (!(await exited(child, 10_000))) throw new Error(`control plane ${pid} still there 10 s after SIGKILL`);
    return pid;
  }

  /** SIGTERM (the server stops its workers), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child && this.pid !== null) {
      this.#exitExpected = true;
      child.kill('SIGTERM');
      if (!(await exited(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await exited(child, 10_000);
      }
    }
    await new Promise((r) => this.#log.end(r));
  }

  /** Is `pid` one of the workers the running control plane forked (its parent is our child)? */
  isOurWorker(pid: number): boolean {
    const me = this.pid;
    return me !== null && parentOf(pid) === me;
  }

  /**
   * Processes with this campaign's state directory on their command line that belong to no
   * running control plane: workers that outlived the one that forked them.
   */
  survivors(): number[] {
    const needle = `--home\0${this.#opts.home}\0`;
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!/^\d+$/.test(name) || pid === process.pid || pid === this.pid || this.isOurWorker(pid)) continue;
      try {
        if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) out.push(pid);
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /** Waits up to `timeoutMs` for every survivor to exit; returns those that did not. */
  async waitSurvivors(timeoutMs: number): Promise<number[]> {
    const end = Date.now() + timeoutMs;
    let left = this.survivors();
    while (left.length > 0 && Date.now() < end) {
      await sleep(200);
      left = this.survivors();
    }
    return left;
  }
}
