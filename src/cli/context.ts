import { TimeoutError } from '../core/errors.ts';
import { clientEnv, loadConfig, type SluiceConfig } from '../presets/config.ts';
import { openRuntime, type Runtime } from '../presets/runtime.ts';
import { ApiClient } from './api-client.ts';
import { readServerFile, type ServerFile } from './server-file.ts';
import { claimStores, storeOwner } from './store-lock.ts';

export interface GlobalOptions {
  home?: string;
  pipelines?: string[];
  verbose?: boolean;
}

const configOf = (opts: GlobalOptions) =>
  loadConfig({
    env: process.env,
    cwd: process.cwd(),
    home: opts.home,
    pipelines: opts.pipelines,
    logLevel: opts.verbose ? 'debug' : undefined,
  });

/** How long a command waits for a server that is starting on its state directory. */
const SERVER_START_WAIT_MS = 60_000;

/**
 * The server that owns the state directory, waiting (bounded) for one that holds the stores
 * but has not written its server file yet, so a command run right after `npm start` goes
 * through it instead of failing on the lock.
 */
async function serverOf(config: SluiceConfig): Promise<ServerFile | undefined> {
  const deadline = Date.now() + SERVER_START_WAIT_MS;
  let told = false;
  for (;;) {
    const server = readServerFile(config.home);
    if (server) return server;
    const owner = storeOwner(config.home);
    if (!owner || !/^sluice (dev|server)\b/.test(owner.command)) return undefined;
    if (Date.now() > deadline) {
      throw new TimeoutError(`the server (pid ${owner.pid}) on ${config.home} has not come up in ${SERVER_START_WAIT_MS / 1000} s`);
    }
    if (!told) process.stderr.write(`waiting for the server (pid ${owner.pid}) that is starting on ${config.home}…\n`);
    told = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * While a server owns the state directory, commands go through its API (the embedded
 * engines allow one process); otherwise they open the stores themselves.
 */
export async function viaServerOr<T>(opts: GlobalOptions, remote: (api: ApiClient) => Promise<T>, local: (rt: Runtime) => Promise<T>): Promise<T> {
  const config = configOf(opts);
  const server = await serverOf(config);
  if (server) return remote(new ApiClient(server, clientEnv(process.env).token));
  return openAndRun(config, local);
}

/** Opens the runtime for one CLI command and always closes it, so the next process can. */
async function openAndRun<T>(config: SluiceConfig, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const release = claimStores(config, `sluice ${process.argv.slice(2).join(' ')}`.slice(0, 200));
  try {
    const rt = await openRuntime(config);
    try {
      return await fn(rt);
    } finally {
      await rt.close();
    }
  } finally {
    release();
  }
}

export const print = (s: string): void => void process.stdout.write(`${s}\n`);
