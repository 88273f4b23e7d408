import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import { WorkerPool, type WorkerPoolLogger } from '../../src/adapters/subprocess/worker-pool.ts';
import type { Pong } from '../../src/core/commands.ts';
import type { AttemptEvent } from '../../src/core/events.ts';
import { TOPICS, type EventBus } from '../../src/ports/event-bus.ts';
import type { LaunchRequest } from '../../src/ports/launcher.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { BUNDLED_PIPELINES } from '../../src/presets/config.ts';
import { BusLauncher } from '../../src/runtime/bus-launcher.ts';

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const HEARTBEAT_MS = 100;

describe('WorkerPool: warm worker processes on the bridged memory bus and chDB', () => {
  let home: string;
  let bus: EventBus;
  let warehouse: Warehouse;
  let pool: WorkerPool;
  let launcher: BusLauncher;
  const events: AttemptEvent[] = [];
  const pongs: Pong[] = [];
  const logs: { level: string; obj: object; msg?: string }[] = [];
  const pids = new Set<number>();
  const logger: WorkerPoolLogger = {
    debug: (obj, msg) => void logs.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void logs.push({ level: 'error', obj, msg }),
  };

  const of = (attemptId: string) => events.filter((e) => e.attemptId === attemptId);
  const finished = (attemptId: string) => of(attemptId).find((e) => e.type === 'attempt.succeeded' || e.type === 'attempt.failed');
  const started = (attemptId: string) => of(attemptId).find((e) => e.type === 'attempt.started');
  const notePids = () => pool.workers().forEach((w) => w.pid !== null && pids.add(w.pid));

  async function launch(params: Record<string, unknown>, runId: string = randomUUID()): Promise<LaunchRequest> {
    const req: LaunchRequest = { runId, attemptId: randomUUID(), attempt: 1, pipeline: 'dummy', step: 'load', params, partition: null, timeoutMs: null };
    await launcher.launch(req);
    return req;
  }

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'sluice-pool-'));
    bus = createMemoryBus({ retryDelayMs: 10 });
    warehouse = createChdbWarehouse({ path: join(home, 'warehouse') });
    await bus.subscribe(TOPICS.events, { group: 'test-watch', fromBeginning: true }, (m) => {
      const v = m.value as { type?: string };
      if (v.type === 'pong') pongs.push(m.value as Pong);
      else events.push(m.value as AttemptEvent);
    });
    launcher = new BusLauncher(bus);
    pool = new WorkerPool({
      size: 2,
      bus,
      bridgeBus: true,
      warehouse,
      worker: { home, pipelines: [BUNDLED_PIPELINES], heartbeatMs: HEARTBEAT_MS, logLevel: 'warn', graceMs: 1_000 },
      // Only what the workers need: nothing from the environment of whoever runs the tests.
      env: { PATH: process.env.PATH },
      logger,
      restartBackoffMs: 50,
      closeGraceMs: 1_000,
    });
    await pool.start();
    notePids();
  });

  after(async () => {
    await pool?.close();
    await bus?.close();
    await warehouse?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('starts warm workers that say how long they took to be ready', () => {
    const workers = pool.workers();
    assert.equal(workers.length, 2);
    for (const w of workers) {
      assert.equal(w.alive, true);
      assert.equal(w.ready, true);
      assert.ok(typeof w.pid === 'number' && alive(w.pid));
      assert.ok(w.startupMs !== null && w.startupMs > 0);
    }
    process.stderr.write(`# worker fork→ready: ${workers.map((w) => `${w.startupMs} ms`).join(', ')}\n`);
  });

  it('answers ping with a pong from every worker', async () => {
    const nonce = randomUUID();
    await bus.publish(TOPICS.control, nonce, { v: 1, type: 'ping', nonce, workerId: null, sentAt: new Date().toISOString() });
    await waitFor('two pongs', () => pongs.filter((p) => p.nonce === nonce).length === 2);
    const ids = pongs.filter((p) => p.nonce === nonce).map((p) => p.workerId).sort();
    assert.deepEqual(ids, pool.workers().map((w) => w.id).sort());
  });

  it('runs the dummy step in a worker process and writes its object', async () => {
    const req = await launch({ records: 200, rate: 5_000 });
    await waitFor('the attempt finished', () => finished(req.attemptId) !== undefined);
    assert.equal(finished(req.attemptId)?.type, 'attempt.succeeded', JSON.stringify(finished(req.attemptId)));
    const start = started(req.attemptId);
    assert.ok(start?.type === 'attempt.started');
    assert.ok(pool.workers().some((w) => w.id === start.workerId && w.pid === start.pid), 'started by one of the pool\'s processes');
    assert.notEqual(start.pid, process.pid);
    const doc = JSON.parse(readFileSync(join(home, 'objects', 'dummy', req.runId, 'all.json'), 'utf8')) as { count: number; records: unknown[] };
    assert.equal(doc.records.length, 200);
    const materialized = of(req.attemptId).find((e) => e.type === 'asset.materialized');
    assert.equal(materialized?.type === 'asset.materialized' && materialized.rows, 200);
    await waitFor('the pool saw it finish', () => pool.workers().every((w) => w.running.length === 0));
  });

  it('survives kill -9 of a worker mid-attempt: respawns it, the attempt goes silent, a new attempt completes', async () => {
    const runId = randomUUID();
    const req = await launch({ records: 100_000, rate: 1_000 }, runId);
    await waitFor('progress from the attempt', () => of(req.attemptId).some((e) => e.type === 'progress'));
    const start = started(req.attemptId);
    assert.ok(start?.type === 'attempt.started' && start.pid !== undefined);
    const victim = start.pid;
    await waitFor('the pool knows where it runs', () => pool.workers().some((w) => w.pid === victim && w.running.includes(req.attemptId)));
    const slot = pool.workers().find((w) => w.pid === victim)!.slot;

    process.kill(victim, 'SIGKILL');
    await waitFor('the slot respawned', () => {
      const w = pool.workers()[slot]!;
      return w.pid !== victim && w.alive && w.ready;
    });
    notePids();
    assert.equal(alive(victim), false);
    assert.equal(pool.workers()[slot]!.restarts, 1);
    assert.deepEqual(pool.workers()[slot]!.running, []);
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg?.includes('respawning')), 'the exit is logged');

    // Several heartbeat intervals later, nothing more came from the dead attempt.
    const count = of(req.attemptId).length;
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 4));
    assert.equal(of(req.attemptId).length, count, 'no events after the kill');
    assert.equal(finished(req.attemptId), undefined, 'no attempt.succeeded (or failed) for the killed attempt');

    const retry = await launch({ records: 50, rate: 5_000 }, runId);
    await waitFor('the new attempt finished', () => finished(retry.attemptId) !== undefined);
    assert.equal(finished(retry.attemptId)?.type, 'attempt.succeeded');
    const retryStart = started(retry.attemptId);
    assert.ok(retryStart?.type === 'attempt.started' && retryStart.pid !== victim && alive(retryStart.pid!));
  });

  it('kill(attemptId) SIGKILLs exactly the process running that attempt', async () => {
    const req = await launch({ records: 100_000, rate: 1_000 });
    await waitFor('the pool knows where it runs', () => pool.workers().some((w) => w.running.includes(req.attemptId)));
    const target = pool.workers().find((w) => w.running.includes(req.attemptId))!;
    const bystander = pool.workers().find((w) => w.id !== target.id)!;

    assert.equal(await pool.kill('no-such-attempt'), false);
    assert.equal(await pool.kill(req.attemptId), true);
    assert.equal(alive(target.pid!), false, 'the target is gone');
    assert.equal(alive(bystander.pid!), true, 'the other worker is untouched');
    assert.equal(finished(req.attemptId), undefined);
    await waitFor('the slot respawned', () => {
      const w = pool.workers()[target.slot]!;
      return w.pid !== target.pid && w.alive && w.ready;
    });
    notePids();
  });

  it('crashAfter kills the worker process from inside the step; the pool respawns it', async () => {
    const req = await launch({ records: 1_000, rate: 10_000, crashAfter: 20 });
    await waitFor('the attempt started', () => started(req.attemptId) !== undefined);
    const start = started(req.attemptId);
    assert.ok(start?.type === 'attempt.started' && start.pid !== undefined);
    const slot = pool.workers().find((w) => w.id === start.workerId)!.slot;
    await waitFor('the crashed slot respawned', () => {
      const w = pool.workers()[slot]!;
      return w.pid !== start.pid && w.alive && w.ready;
    });
    notePids();
    assert.equal(alive(start.pid), false);
    assert.equal(finished(req.attemptId), undefined, 'a crashed attempt reports nothing more');
    assert.ok(of(req.attemptId).some((e) => e.type === 'log' && e.message.includes('crashAfter')), 'it said why before dying');
  });

  it('hangAfter blocks a worker outright: its heartbeats stop', async () => {
    const req = await launch({ records: 1_000, rate: 1_000, hangAfter: 100, hangMs: 30_000 });
    await waitFor('the worker says it is about to block', () => of(req.attemptId).some((e) => e.type === 'log' && e.message.includes('blocking')));
    await new Promise((r) => setTimeout(r, 100));
    const count = of(req.attemptId).length;
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 4));
    assert.equal(of(req.attemptId).length, count, 'no heartbeat (nor anything else) while blocked');
    assert.ok(pool.workers().some((w) => w.running.includes(req.attemptId) && w.alive));
  });

  it('close() SIGKILLs a worker that ignores SIGTERM past the grace period and leaves no process behind', async () => {
    notePids();
    assert.ok(pids.size >= 5, `saw the original and respawned workers (${pids.size})`);
    const started = Date.now();
    await pool.close();
    // The blocked worker cannot run its SIGTERM handler: it goes after the 1 s grace.
    assert.ok(Date.now() - started >= 1_000, 'waited for the grace period');
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
    assert.ok(pool.workers().every((w) => !w.alive));
    assert.ok(logs.some((l) => l.level === 'warn' && l.msg?.includes('did not stop')), 'the forced kill is logged');
  });
});
