import { loadConfig } from '../presets/config.ts';
import { openRuntime, type Runtime } from '../presets/embedded.ts';

export interface GlobalOptions {
  home?: string;
  pipelines?: string[];
  verbose?: boolean;
}

/** Opens the runtime for one CLI command and always closes it, so the next process can. */
export async function withRuntime<T>(opts: GlobalOptions, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig({
    env: process.env,
    cwd: process.cwd(),
    home: opts.home,
    pipelines: opts.pipelines,
    logLevel: opts.verbose ? 'debug' : undefined,
  });
  const rt = await openRuntime(config);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

export const print = (s: string): void => void process.stdout.write(`${s}\n`);
