import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/dev-server.ts';
import { tempHome } from '../helpers/runtime.ts';

// The README's first hour, as a user lives it: `npm start` in one terminal, `npx sluice …` in
// another, then Ctrl-C / kill. Every command must answer in seconds beside the running
// server, and every stop must leave no process behind.

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome('sluice-readme-');
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir.home, SLUICE_HOME: dir.home };
const started: ChildProcess[] = [];

after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  dir.cleanup();
});

interface Result { code: number; stdout: string; stderr: string; ms: number }

/** `npx sluice …` as the README writes it (the local bin only, never a download). */
function npx(args: string[], timeoutMs = 60_000): Promise<Result> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile('npx', ['--no', 'sluice', ...args], { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - t0 }));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves with how long it took until none of `pids` is alive, or fails after `limitMs` naming the survivors. */
async function allGone(pids: number[], limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (pids.some(alive)) {
    if (Date.now() - t0 > limitMs) assert.fail(`still alive after ${limitMs} ms: ${pids.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

interface Started { npm: ChildProcess; url: string; serverPid: number; workerPids: number[]; output: () => string; bannerMs: number }

/** `npm start -- --port N` on the test's state directory, up to its banner. */
async function npmStart(): Promise<Started> {
  const port = await freePort();
  const t0 = Date.now();
  const npm = spawn('npm', ['start', '--', '--port', String(port)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(npm);
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no banner within 60 s:\n${out}`)), 60_000);
    npm.stdout!.on('data', () => {
      if (/^Ctrl-C/m.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
  const bannerMs = Date.now() - t0;
  const url = /on (http:\/\/\S+) \(state/.exec(out)![1];
  const server = JSON.parse(readFileSync(join(dir.home, 'server.json'), 'utf8')) as { pid: number; url: string };
  assert.equal(server.url, url);
  const workers = (await (await fetch(`${url}/api/v1/workers`)).json()) as { items: { pid: number | null }[] };
  const workerPids = workers.items.map((w) => w.pid).filter((p): p is number => p !== null);
  assert.equal(workerPids.length, 2, JSON.stringify(workers));
  return { npm, url, serverPid: server.pid, workerPids, output: () => out, bannerMs };
}

let first: Started;

test('npm start prints a banner a person reads: URL, OpenAPI, state, logs, demo data, what to try', async () => {
  first = await npmStart();
  const out = first.output();
  assert.match(out, new RegExp(`Sluice dev server on ${first.url} \\(state: ${dir.home}\\)`));
  assert.match(out, new RegExp(`UI +${first.url}/\n`));
  assert.match(out, new RegExp(`API +${first.url}/api/v1 \\(OpenAPI document: ${first.url}/api/v1/openapi\\.json\\)`));
  assert.match(out, new RegExp(`logs +${join(dir.home, 'logs', 'sluice.log')}`));
  assert.match(out, /demo data +loading the retail sample/);
  assert.match(out, /Try:\n {2}npx sluice demo .*\n {2}npx sluice run retail --partition 2010-12-01/);
  // The info lines went to the log file, not between the banner's lines.
  assert.doesNotMatch(out, /"level":30/);
  assert.match(readFileSync(join(dir.home, 'logs', 'sluice.log'), 'utf8'), /"msg":"worker process ready"/);
  process.stdout.write(`# banner after ${first.bannerMs} ms (fresh state directory)\n`);
});

test('every README command answers within seconds beside the running server', async () => {
  const timed: [string, number][] = [];
  const ok = async (args: string[], boundMs = 30_000): Promise<Result> => {
    const r = await npx(args);
    assert.equal(r.code, 0, `sluice ${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.ms < boundMs, `sluice ${args.join(' ')} took ${r.ms} ms`);
    timed.push([args.slice(0, args[0] === 'token' ? 2 : 1).join(' '), r.ms]);
    return r;
  };
  const demo = await ok(['demo'], 60_000);
  assert.match(demo.stdout, /quality\.data_quality ⋈ quality\.sales_summary\nday +lines/);
  const pipelines = await ok(['pipelines']);
  assert.match(pipelines.stdout, /^retail +daily from 2010-12-01 +schema → raw/m);
  const run = await ok(['run', 'retail', '--partition', '2010-12-01']);
  assert.match(run.stdout, /^retail \[2010-12-01\]: succeeded in [\d.]+ s, [\d,]+ rows written, 0 quarantined$/m);
  assert.match(run.stderr, /^ {2}quality\.data_quality: 1 row$/m);
  assert.match(run.stderr, /^ {2}reconciled: /m);
  const backfill = await ok(['backfill', 'retail', '--from', '2010-12-01', '--to', '2010-12-02']);
  assert.match(backfill.stdout, /2 succeeded, 0 failed/);
  const query = await ok(['query', 'SELECT count() AS n FROM marts.fact_sales', '--format', 'json']);
  assert.deepEqual(JSON.parse(query.stdout), [{ n: 26_160 }]);
  const runs = await ok(['runs', '--pipeline', 'retail', '--limit', '100']);
  // The demo's backfill (one run per sample day), the run and the backfill above.
  assert.equal(runs.stdout.trim().split('\n').length, 2 + 23 + 1 + 2, runs.stdout);
  const metrics = await ok(['metrics']);
  assert.match(metrics.stdout, /^latest_sales_volume\{pipeline="retail"\} [\d.]+$/m);
  const token = await ok(['token', 'create', '--role', 'view', '--name', 'readme']);
  assert.match(token.stdout.trim(), /^\S{20,}$/);
  const tokens = await ok(['token', 'list']);
  assert.match(tokens.stdout, /readme +view/);
  const check = await ok(['check']);
  assert.match(check.stdout, /^metadata +\S+ +ok +\d+ +PGlite, embedded in this process$/m);
  assert.match(check.stdout.trim().split('\n').pop() ?? '', /^all 4 reachable$/);
  const ping = await ok(['ping']);
  assert.equal(ping.stdout.trim().split('\n').length, 2 + 2, ping.stdout);
  const streams = await ok(['streams']);
  assert.match(streams.stdout, /^market-live\.feed +running +\d+/m);
  assert.match(streams.stdout, /^market-live\.connect +running +\d+ +[1-9]/m);
  const books = await ok(['query', 'SELECT symbol, ts, bids[1], asks[1] FROM market.book_snapshots ORDER BY ts DESC LIMIT 4']);
  assert.match(books.stdout, /NKNUSDT|BLZETH|LRCBTC|RUNEEUR/);
  const live = /\(run ([0-9a-f-]{36}); sluice stop \1\)/.exec(first.output())?.[1];
  assert.ok(live, first.output());

  const dummy = (await (await fetch(`${first.url}/api/v1/runs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'dummy', partition: '2024-01-01', params: { records: 100_000, rate: 1000 } }),
  })).json()) as { id: string };
  const stop = await ok(['stop', dummy.id]);
  assert.match(stop.stdout, new RegExp(`run ${dummy.id} cancelled`));
  const stopLive = await ok(['stop', live!]);
  assert.match(stopLive.stdout, new RegExp(`run ${live} succeeded`));

  const nope = await npx(['runs', '--pipeline', 'nope']);
  assert.equal(nope.code, 2);
  assert.match(nope.stderr, /pipeline not found: nope \(known: always-fails, dummy, market-history, market-live, retail\)/);
  process.stdout.write(`# ${timed.map(([c, ms]) => `${c} ${ms} ms`).join(', ')}\n`);
});

test('SIGTERM to npm stops the server and every worker (checked by pid)', async () => {
  const pids = [first.npm.pid!, first.serverPid, ...first.workerPids];
  first.npm.kill('SIGTERM');
  const ms = await allGone(pids, 20_000);
  assert.match(first.output(), /stopping \(SIGTERM\)…\nstopped/);
  assert.ok(!existsSync(join(dir.home, 'server.json')));
  assert.ok(!existsSync(join(dir.home, 'stores.lock')));
  process.stdout.write(`# SIGTERM: npm, server and workers gone in ${ms} ms\n`);
});

test('SIGINT to npm (Ctrl-C) stops the server and every worker; the banner tells the loaded demo data', async () => {
  const second = await npmStart();
  assert.match(second.output(), /demo data +the retail sample is loaded \(20 days/);
  const pids = [second.npm.pid!, second.serverPid, ...second.workerPids];
  second.npm.kill('SIGINT');
  const ms = await allGone(pids, 20_000);
  assert.match(second.output(), /stopping \(SIGINT\)…\nstopped/);
  process.stdout.write(`# banner after ${second.bannerMs} ms (demo loaded); SIGINT: all gone in ${ms} ms\n`);
});

test('SIGKILL of the server takes its workers with it; the next command takes over the stale lock', async () => {
  const third = await npmStart();
  process.kill(third.serverPid, 'SIGKILL');
  const ms = await allGone([third.npm.pid!, ...third.workerPids], 10_000);
  const runs = await npx(['runs', '--limit', '1', '--json']);
  assert.equal(runs.code, 0, runs.stderr);
  process.stdout.write(`# SIGKILL of the server: npm and workers gone in ${ms} ms\n`);
});

test('stores held by another command are a clear error within seconds, naming its pid', async () => {
  const holder = spawn(process.execPath, ['src/cli/main.ts', 'run', 'dummy', '--partition', '2024-01-02', '--param', 'records=100000', '--param', 'rate=1000'], {
    cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(holder);
  const lock = join(dir.home, 'stores.lock');
  for (let i = 0; i < 300 && !(existsSync(lock) && readFileSync(lock, 'utf8').includes(`"pid":${holder.pid}`)); i++) await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  const r = await new Promise<Result>((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', 'pipelines'], { cwd: root, env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - t0 }));
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`in use by pid ${holder.pid} \\(sluice run dummy .*\\).*kill ${holder.pid}`));
  assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
  holder.kill('SIGTERM');
  await allGone([holder.pid!], 10_000);
  process.stdout.write(`# lock error after ${r.ms} ms (process start included)\n`);
});
