import { loadConfig } from '../presets/config.ts';
import { openRuntime, type Runtime } from '../presets/embedded.ts';
import { ApiClient } from './api-client.ts';
import { readServerFile } from './server-file.ts';

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

/**
 * While a server owns the state directory, commands go through its API (the embedded
 * engines allow one process); otherwise they open the stores themselves.
 */
export async function viaServerOr<T>(opts: GlobalOptions, remote: (api: ApiClient) => Promise<T>, local: (rt: Runtime) => Promise<T>): Promise<T> {
  const server = readServerFile(configOf(opts).home);
  if (server) return remote(new ApiClient(server, process.env.SLUICE_TOKEN));
  return withRuntime(opts, local);
}

/** Opens the runtime for one CLI command and always closes it, so the next process can. */
export async function withRuntime<T>(opts: GlobalOptions, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime(configOf(opts));
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

export const print = (s: string): void => void process.stdout.write(`${s}\n`);
