import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChdbWarehouse } from '../../src/adapters/chdb/chdb-warehouse.ts';
import { IpcHost } from '../../src/adapters/ipc/ipc-host.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import type { BusMessage, EventBus } from '../../src/ports/event-bus.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';

const CHILD = fileURLToPath(new URL('../fixtures/ipc-child.ts', import.meta.url));

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Received {
  name: string;
  value: unknown;
  key: string;
  call: number;
}

interface RemoteError {
  name: string;
  message: string;
  code: string;
  retryable: boolean;
  nonRetryableReason: string | null;
  sluice: boolean;
}

/** A forked child on the bridge, driven by test commands on the same channel. */
class TestChild {
  readonly child: ChildProcess;
  readonly host: IpcHost;
  readonly received: Received[] = [];
  readonly exited: Promise<void>;
  #next = 1;
  readonly #pending = new Map<number, (m: { ok: boolean; result?: unknown; error?: RemoteError }) => void>();
  #ready: Promise<void>;

  constructor(bus: EventBus, warehouse: Warehouse) {
    this.child = fork(CHILD, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.host = new IpcHost({ child: this.child, bus, warehouse });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.#ready = new Promise((resolve) => {
      this.child.on('message', (raw) => {
        const m = raw as { ch?: string; id?: number; event?: string } & Received & { ok: boolean; result?: unknown; error?: RemoteError };
        if (m?.ch !== 'test') return;
        if (m.event === 'ready') resolve();
        else if (m.event === 'received') this.received.push({ name: m.name, value: m.value, key: m.key, call: m.call });
        else if (m.id !== undefined) this.#pending.get(m.id)?.(m);
      });
    });
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** Runs a command in the child; resolves with its result, or rejects with its error as seen there. */
  async call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    const reply = await new Promise<{ ok: boolean; result?: unknown; error?: RemoteError }>((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ ch: 'test', id, cmd, ...args });
    });
    if (!reply.ok) throw Object.assign(new Error(reply.error!.message), { remote: reply.error });
    return reply.result as T;
  }

  seen(name: string): unknown[] {
    return this.received.filter((r) => r.name === name).map((r) => r.value);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe('IPC bridge: a forked child on the parent\'s memory bus and chDB warehouse', () => {
  let dir: string;
  let bus: EventBus;
  let warehouse: Warehouse;
  let child: TestChild;
  const children: TestChild[] = [];

  async function spawn(): Promise<TestChild> {
    const c = new TestChild(bus, warehouse);
    children.push(c);
    await c.ready();
    return c;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-ipc-'));
    bus = createMemoryBus({ retryDelayMs: 10 });
    warehouse = createChdbWarehouse({ path: join(dir, 'warehouse') });
    await warehouse.command('CREATE DATABASE IF NOT EXISTS t');
    child = await spawn();
  });

  after(async () => {
    for (const c of children) await c.kill();
    await bus.close();
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes from the child onto the real bus, and delivers the real bus to the child', async () => {
    const atParent: BusMessage[] = [];
    await bus.subscribe('up', { group: 'parent' }, (m) => void atParent.push(m));
    await child.call('publish', { topic: 'up', key: 'run-1', value: { n: 1, at: new Date(0) } });
    await waitFor('the parent got the child\'s message', () => atParent.length === 1);
    assert.equal(atParent[0]?.key, 'run-1');
    // The channel keeps what structured clone keeps, as the memory bus does.
    assert.deepEqual(atParent[0]?.value, { n: 1, at: new Date(0) });

    await bus.publish('down', 'k', 'before');
    await child.call('subscribe', { name: 'down', topic: 'down', group: 'child-down', fromBeginning: true });
    for (let i = 0; i < 5; i++) await bus.publish('down', 'k', i);
    await waitFor('the child got all of them', () => child.seen('down').length === 6);
    assert.deepEqual(child.seen('down'), ['before', 0, 1, 2, 3, 4], 'fromBeginning, then in order');
  });

  it('redelivers a message the child\'s handler refused (nack), then moves on after the ack', async () => {
    await child.call('subscribe', { name: 'nack', topic: 'nack', group: 'child-nack', mode: 'nackFirst' });
    await bus.publish('nack', 'k', 'first');
    await bus.publish('nack', 'k', 'second');
    await waitFor('three deliveries', () => child.seen('nack').length === 3);
    assert.deepEqual(child.seen('nack'), ['first', 'first', 'second']);
  });

  it('stops delivering to a subscription the child closed; the group\'s other members get the rest', async () => {
    await child.call('subscribe', { name: 'leave', topic: 'leave', group: 'shared-leave' });
    await bus.publish('leave', 'k', 1);
    await waitFor('the child got 1', () => child.seen('leave').length === 1);
    assert.equal(child.host.subscriptions > 0, true);
    const before = child.host.subscriptions;
    await child.call('unsubscribe', { name: 'leave' });
    assert.equal(child.host.subscriptions, before - 1);
    const others: unknown[] = [];
    await bus.subscribe('leave', { group: 'shared-leave' }, (m) => void others.push(m.value));
    await bus.publish('leave', 'k', 2);
    await waitFor('the other member got 2', () => others.length === 1);
    assert.deepEqual(others, [2]);
    assert.deepEqual(child.seen('leave'), [1]);
  });

  it('runs commands, queries and row inserts on the parent\'s warehouse', async () => {
    await child.call('command', { sql: 'CREATE TABLE IF NOT EXISTS t.rows (id UInt32, name String) ENGINE = MergeTree ORDER BY id' });
    await child.call('insertRows', { table: 't.rows', rows: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] });
    const rows = await child.call<{ n: number; names: string[] }[]>('query', { sql: 'SELECT count() AS n, groupArray(name) AS names FROM t.rows WHERE id <= {max:UInt32}', params: { max: 10 } });
    assert.deepEqual(rows, [{ n: 2, names: ['a', 'b'] }]);
  });

  it('streams a 50k-row TSV insert with bounded chunks in flight', async () => {
    await warehouse.command('CREATE TABLE t.tsv (id UInt32, name String) ENGINE = MergeTree ORDER BY id');
    const r = await child.call<{ rows: number; rssGrowth: number }>('insertTsv', { table: 't.tsv', rows: 50_000 });
    assert.equal(r.rows, 50_000);
    const [check] = await warehouse.query<{ n: number; s: number; last: string }>("SELECT count() AS n, sum(id) AS s, argMax(name, id) AS last FROM t.tsv");
    assert.deepEqual(check, { n: 50_000, s: (49_999 * 50_000) / 2, last: 'name-49999' });
    // ~1 MB in 4 KiB chunks: about 250 chunks went over, never more than the window waited.
    assert.ok(child.host.peakBufferedChunks >= 1, 'chunks went through the feed');
    assert.ok(child.host.peakBufferedChunks <= 4, `at most the window (4) waited, saw ${child.host.peakBufferedChunks}`);
  });

  it('fails the parent\'s insert when the child\'s source breaks, and says why in the child', async () => {
    await warehouse.command('CREATE TABLE t.broken (id UInt32, name String) ENGINE = MergeTree ORDER BY id');
    await assert.rejects(child.call('insertTsv', { table: 't.broken', rows: 10_000, failAt: 5_000 }), /source broke at row 5000/);
    // The bridge is still usable afterwards.
    const [r] = await child.call<{ one: number }[]>('query', { sql: 'SELECT 1 AS one' });
    assert.equal(r?.one, 1);
  });

  it('rethrows warehouse errors as SluiceError with their code, retryable flag and why not', async () => {
    const syntax = await child.call('query', { sql: 'SELEC 1' }).then(() => null, (e: { remote: RemoteError }) => e.remote);
    assert.deepEqual({ ...syntax, message: undefined }, {
      name: 'SluiceError', code: 'warehouse', retryable: false, sluice: true, message: undefined,
      nonRetryableReason: 'the warehouse refuses the statement (SYNTAX_ERROR) the same way every time',
    });
    assert.match(syntax!.message, /SYNTAX_ERROR/);

    const timeout = await child
      .call('query', { sql: "SELECT count() FROM numbers(100000000000) SETTINGS max_execution_time = 0.05, timeout_overflow_mode = 'throw'" })
      .then(() => null, (e: { remote: RemoteError }) => e.remote);
    assert.equal(timeout?.sluice, true);
    assert.equal(timeout?.code, 'warehouse');
    assert.equal(timeout?.retryable, true, 'a timeout stays retryable across the hop');
    assert.equal(timeout?.nonRetryableReason, null);
    assert.match(timeout!.message, /TIMEOUT_EXCEEDED/);
  });

  it('hands a message the child took but never acked to another group member when the child dies', async () => {
    const doomed = await spawn();
    await doomed.call('subscribe', { name: 'hang', topic: 'work', group: 'workers', mode: 'hang' });
    await bus.publish('work', 'run-9', 'job-1');
    await waitFor('the doomed child took job-1', () => doomed.seen('hang').length === 1);
    const survivor = await spawn();
    await survivor.call('subscribe', { name: 'work', topic: 'work', group: 'workers' });
    // Nothing moves while the doomed child holds the message.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(survivor.seen('work'), []);
    await doomed.kill();
    await waitFor('job-1 redelivered to the survivor', () => survivor.seen('work').length === 1);
    assert.deepEqual(survivor.seen('work'), ['job-1']);
    assert.equal(doomed.host.subscriptions, 0, 'the dead child\'s subscriptions are closed');
    // The group carries on with the survivor alone.
    await bus.publish('work', 'run-9', 'job-2');
    await waitFor('job-2 at the survivor', () => survivor.seen('work').length === 2);
  });
});
