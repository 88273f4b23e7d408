import type { Command } from 'commander';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { ConflictError, ValidationError, describeError } from '../../core/errors.ts';
import { clientEnv, loadConfig, type SluiceConfig } from '../../presets/config.ts';
import { seedDemo } from '../../presets/demo-data.ts';
import { startLiveDemo } from '../../presets/live-demo.ts';
import { leaderLabelOf, standbyHealth, waitForLeadership } from '../../presets/leadership.ts';
import type { LeaderLock } from '../../adapters/postgres/postgres-leader-lock.ts';
import { BackfillManager } from '../../server/backfill-manager.ts';
import { openControlPlane } from '../../presets/runtime.ts';
import { ensureUiBundle } from '../../presets/ui-bundle.ts';
import { brokenWarnings, definitionReloader, describeReload, watchPipelineDirs } from '../../runtime/pipeline-reload.ts';
import type { Principal } from '../../server/app.ts';
import { authenticate } from '../../server/auth/roles.ts';
import { createApi } from '../../server/create-api.ts';
import { localDevGuard } from '../../server/local-dev-guard.ts';
import type { GlobalOptions } from '../context.ts';
import { print } from '../context.ts';
import { formatBanner } from '../banner.ts';
import { readServerFile, removeServerFile, writeServerFile } from '../server-file.ts';
import { claimStores } from '../store-lock.ts';

const VERSION = '0.1.0';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

interface ServeOptions {
  host: string;
  port: string;
  dev: boolean;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** A stop that takes longer than this (a stuck close) ends the process anyway; workers follow it (their IPC channel closes). */
const STOP_LIMIT_MS = 30_000;

/**
 * Resolves on the first stop signal. Later ones (a terminal's Ctrl-C reaches this process
 * and npm, which passes it on) only say the stop is under way, instead of killing the
 * process halfway through closing its stores.
 */
function stopRequested(): Promise<string> {
  return new Promise((resolve) => {
    let firstAt: number | null = null;
    for (const sig of STOP_SIGNALS) {
      process.on(sig, () => {
        if (firstAt === null) {
          firstAt = Date.now();
          resolve(sig);
        } else if (Date.now() - firstAt > 1_000) {
          // Not the copy npm passes on with the terminal's own: someone asked again.
          process.stderr.write(`still stopping (pid ${process.pid})…\n`);
        }
      });
    }
  });
}

/** Runs the control plane until SIGINT/SIGTERM/SIGHUP. */
async function serve(globals: GlobalOptions, o: ServeOptions): Promise<void> {
  const stop = stopRequested();
  const verbose = Boolean(globals.verbose);
  const loaded = loadConfig({ env: process.env, cwd: process.cwd(), home: globals.home, pipelines: globals.pipelines, logLevel: verbose ? 'debug' : 'info' });
  // Local dev logs to a file so the terminal keeps the banner; a cluster's logs stay on stderr for its collector.
  const config: SluiceConfig = o.dev
    ? Object.freeze({ ...loaded, logFile: join(loaded.home, 'logs', 'sluice.log'), logStderrLevel: verbose ? loaded.logLevel : 'warn' })
    : loaded;
  const owner = readServerFile(config.home);
  if (owner) throw new ConflictError(`a server (pid ${owner.pid}) already owns ${config.home} at ${owner.url}`);
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError(`--port must be 0-65535, got ${o.port}`);
  const release = claimStores(config, o.dev ? 'sluice dev' : 'sluice server');
  try {
    const lock = await lead(config, o.host, port, stop);
    if (lock === null) return;
    await serveOn(config, o, port, verbose, stop, lock !== 'single');
    if (lock !== 'single') await lock.release();
  } finally {
    release();
  }
}

/**
 * With a shared PostgreSQL, waits to lead (a standby answers health checks meanwhile); the
 * process stops at once if it loses the leadership, since another replica then runs its runs.
 * Null: asked to stop while standing by.
 */
async function lead(config: SluiceConfig, host: string, port: number, stop: Promise<string>): Promise<LeaderLock | 'single' | null> {
  const abort = new AbortController();
  void stop.then(() => abort.abort());
  // A pod that led before it restarted still says so: it says standby before it is ready.
  const label = await leaderLabelOf(config);
  const labelled = label ? await label.set(false).then(() => true, (err: unknown) => {
    process.stderr.write(`sluice: ${describeError(err)}; standing by without being ready\n`);
    return false;
  }) : false;
  let health: Promise<Server | null> = Promise.resolve(null);
  const lock = await waitForLeadership(config, {
    signal: abort.signal,
    onStandby: () => {
      const what = config.metadata.kind === 'postgres' ? `schema ${config.metadata.schema}` : 'these stores';
      health = standbyHealth(host, port, labelled).then((server) => {
        const a = server.address();
        const at = typeof a === 'object' && a ? `http://${host.includes(':') ? `[${host}]` : host}:${a.port}` : `port ${port}`;
        print(`standby: another control plane leads ${what}; this one takes over when it goes (health on ${at}/healthz, ${labelled ? `ready on ${at}/readyz, its pod labelled sluice.dev/leader=false` : `ready on ${at}/readyz once it leads`})`);
        return server;
      }, (err: unknown) => {
        print(`standby: another control plane leads ${what}; this one takes over when it goes`);
        process.stderr.write(`standby health checks not served: ${describeError(err)}\n`);
        return null;
      });
    },
  });
  const h = await health;
  if (h) {
    h.closeAllConnections();
    await new Promise((r) => h.close(r));
  }
  if (lock === null) return lock;
  // The Service sends the API here from now on; without the label nobody could reach it, so
  // a failure stops the process and leaves the leadership to a replica that can.
  if (label) await label.set(true);
  if (lock === 'single') return lock;
  void lock.lost.then((err) => {
    process.stderr.write(`sluice: lost the leadership (${err.message}); stopping so that the new leader alone runs the runs\n`);
    process.exit(1);
  });
  return lock;
}

/** A write refused because a later leader claimed the store: this process must not act again. */
function fenced(err: Error): never {
  process.stderr.write(`sluice: ${err.message}; stopping so that the new leader alone runs the runs\n`);
  process.exit(1);
}

async function serveOn(config: SluiceConfig, o: ServeOptions, port: number, verbose: boolean, stop: Promise<string>, leads: boolean): Promise<void> {
  // Local-dev mode: only when the socket is reachable from this machine alone.
  const open = o.dev && LOOPBACK.has(o.host);
  // Built (or found in its cache) while the stores open.
  const uiBuild = ensureUiBundle();
  const rt = await openControlPlane(config, { sourceTrust: open ? 'trusted' : 'restricted', ...(leads ? { onFenced: fenced } : {}) });
  const ui = await uiBuild;
  if (ui.dir === null) rt.services.logger.warn({ reason: ui.reason }, 'serving the API without the web UI');
  // A terminal gets a line a person reads (the logger would print it a second time there); a cluster's log collector a record.
  if (o.dev) for (const w of brokenWarnings(rt.registry)) process.stderr.write(`${w}\n`);
  else for (const b of rt.registry.broken()) rt.services.logger.warn({ file: b.file, line: b.line, error: b.error }, 'pipeline file did not load');
  const auth = async (header: string | undefined): Promise<Principal> => {
    if (open && header === undefined) return { role: 'admin', name: 'local-dev' };
    const t = await authenticate(header, rt.services.metadata.tokens);
    return { role: t.role, name: t.name };
  };
  // POST /pipelines/reload (the UI's "Reload definitions"), and in dev every save in a pipelines directory.
  const reloadEverywhere = definitionReloader(rt.registry, rt.pool, rt.services.logger);
  const reloadPipelines = async () => {
    const changes = await reloadEverywhere();
    if (o.dev) {
      const { summary, warnings } = describeReload(changes, rt.registry);
      print(summary);
      for (const w of warnings) process.stderr.write(`${w}\n`);
    }
    return changes;
  };
  const watcher = o.dev ? watchPipelineDirs(config.pipelines, reloadPipelines, { logger: rt.services.logger }) : null;
  const backfills = new BackfillManager(rt.services, rt.registry, rt.coordinator);
  const app = createApi({
    services: rt.services, registry: rt.registry, reloadPipelines, coordinator: rt.coordinator, backfills, query: rt.query, version: VERSION, authenticate: auth, workers: () => rt.pool?.workers() ?? [],
    sse: config.sse, anonymous: open, guard: open ? localDevGuard() : undefined, uiDir: ui.dir ?? undefined,
  });
  try {
    await app.listen({ host: o.host, port });
  } catch (err) {
    watcher?.close();
    await rt.close();
    throw err;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${actualPort}`;
  writeServerFile(config.home, { pid: process.pid, url, mode: o.dev ? 'dev' : 'server', startedAt: new Date().toISOString() });
  const demo = o.dev ? await seedDemo(rt, backfills, print).catch((err: unknown) => `not loaded: ${describeError(err)}`) : null;
  const live = o.dev ? await startLiveDemo(rt, actualPort + 1 < 32768 ? actualPort + 1 : 0, print) : null;
  print(formatBanner({ mode: o.dev ? 'dev' : 'server', url, home: config.home, logFile: config.logFile ?? null, verbose, demo, live: live?.line ?? null, pid: process.pid, ui: ui.dir === null ? ui.reason : null }));

  const signal = await stop;
  print(`stopping (${signal})…`);
  const limit = setTimeout(() => {
    process.stderr.write(`sluice: the server did not stop within ${STOP_LIMIT_MS / 1000} s; exiting anyway\n`);
    process.exit(1);
  }, STOP_LIMIT_MS);
  limit.unref();
  watcher?.close();
  removeServerFile(config.home, process.pid);
  // Open event streams would hold close() until they end: give requests a moment, then cut them.
  const closing = app.close();
  await Promise.race([closing, new Promise((r) => setTimeout(r, 2_000).unref())]);
  app.server.closeAllConnections();
  await closing;
  await rt.close();
  await live?.close();
  clearTimeout(limit);
  print('stopped');
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
    .option('--host <host>', 'address to listen on (default 0.0.0.0, or SLUICE_HOST)')
    .option('--port <n>', 'port (default 4200, or SLUICE_PORT)')
    .action((o: { host?: string; port?: string }) => {
      // Read here, not at registration: a bad SLUICE_PORT is an error of `sluice server` only.
      const env = clientEnv(process.env);
      return serve(globals(), { host: o.host ?? env.host ?? '0.0.0.0', port: o.port ?? env.port ?? '4200', dev: false });
    });
}
