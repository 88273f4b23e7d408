import type { Command } from 'commander';
import { SluiceError } from '../../core/errors.ts';
import { loadConfig } from '../../presets/config.ts';
import { openControlPlane } from '../../presets/embedded.ts';
import type { Principal } from '../../server/app.ts';
import { authenticate } from '../../server/auth/roles.ts';
import { createApi } from '../../server/create-api.ts';
import { localDevGuard } from '../../server/local-dev-guard.ts';
import type { GlobalOptions } from '../context.ts';
import { print } from '../context.ts';
import { readServerFile, removeServerFile, writeServerFile } from '../server-file.ts';

const VERSION = '0.1.0';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

interface ServeOptions {
  host: string;
  port: string;
  dev: boolean;
}

/** Runs the control plane until SIGINT/SIGTERM. */
async function serve(globals: GlobalOptions, o: ServeOptions): Promise<void> {
  const config = loadConfig({ env: process.env, cwd: process.cwd(), home: globals.home, pipelines: globals.pipelines, logLevel: globals.verbose ? 'debug' : 'info' });
  const owner = readServerFile(config.home);
  if (owner) throw new SluiceError('conflict', `a server (pid ${owner.pid}) already owns ${config.home} at ${owner.url}`);
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SluiceError('validation', `--port must be 0-65535, got ${o.port}`);
  // Local-dev mode: only when the socket is reachable from this machine alone.
  const open = o.dev && LOOPBACK.has(o.host);
  const rt = await openControlPlane(config, { sourceTrust: open ? 'trusted' : 'restricted' });
  const auth = async (header: string | undefined): Promise<Principal> => {
    if (open && header === undefined) return { role: 'admin', name: 'local-dev' };
    const t = await authenticate(header, rt.services.metadata.tokens);
    return { role: t.role, name: t.name };
  };
  const app = createApi({
    services: rt.services, registry: rt.registry, coordinator: rt.coordinator, query: rt.query, version: VERSION, authenticate: auth, workers: () => rt.pool.workers(),
    sse: config.sse, anonymous: open, guard: open ? localDevGuard() : undefined,
  });
  await app.listen({ host: o.host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${actualPort}`;
  writeServerFile(config.home, { pid: process.pid, url, mode: o.dev ? 'dev' : 'server', startedAt: new Date().toISOString() });
  print(`Sluice ${o.dev ? 'dev server' : 'server'} on ${url} (state: ${config.home})`);
  print(open ? 'local-dev mode: listening on loopback only, requests without a token act as admin' : 'every API call needs "Authorization: Bearer <token>" (sluice token create)');

  if (o.dev) {
    const [r] = await rt.services.warehouse.query<{ n: number }>(
      "SELECT count() AS n FROM system.tables WHERE database = 'quality' AND name = 'sales_summary' AND total_rows > 0",
    );
    if (Number(r.n) === 0 && rt.registry.list().some((p) => p.name === 'retail')) {
      const { run, done } = await rt.coordinator.submit({ pipeline: 'retail' });
      print(`loading the retail demo data: run ${run.id}`);
      void done.then((d) => print(`demo data: run ${d.run.id} ${d.run.status}`));
    }
  }

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  print('stopping…');
  removeServerFile(config.home, process.pid);
  await app.close();
  await rt.close();
}

export function registerServe(program: Command, globals: () => GlobalOptions): void {
  program
    .command('dev')
    .description('the control plane on the embedded stores, on 127.0.0.1, with the demo data loaded')
    .option('--port <n>', 'port', '4200')
    .action((o: { port: string }) => serve(globals(), { host: '127.0.0.1', port: o.port, dev: true }));
  program
    .command('server')
    .description('the control plane for a cluster: stores from the environment, tokens required')
    .option('--host <host>', 'address to listen on', process.env.SLUICE_HOST ?? '0.0.0.0')
    .option('--port <n>', 'port', process.env.SLUICE_PORT ?? '4200')
    .action((o: { host: string; port: string }) => serve(globals(), { host: o.host, port: o.port, dev: false }));
}
