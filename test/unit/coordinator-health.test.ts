import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createMemoryDataTopics } from '../../src/adapters/memory-topics/memory-data-topics.ts';
import { createMemoryBus } from '../../src/adapters/memory-bus/memory-bus.ts';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { createLocalObjectStore } from '../../src/adapters/local-fs/local-object-store.ts';
import { executeAttempt } from '../../src/runtime/attempt-executor.ts';
import { Coordinator } from '../../src/runtime/coordinator.ts';
import { loadPipelines, type PipelineRegistry } from '../../src/runtime/pipeline-registry.ts';
import type { Services } from '../../src/runtime/services.ts';
import type { LaunchRequest, Launcher } from '../../src/ports/launcher.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { tempHome } from '../helpers/runtime.ts';

// A launcher that can be told to "lose" attempts: it drops them on the floor (like a worker
// killed before it reported anything) or runs them for real.
class FlakyLauncher implements Launcher {
  readonly kind = 'test';
  readonly canKill = true;
  dropNext = 0;
  launched: LaunchRequest[] = [];
  killed: string[] = [];
  readonly run: (r: LaunchRequest) => Promise<unknown>;
  constructor(run: (r: LaunchRequest) => Promise<unknown>) {
    this.run = run;
  }
  async launch(r: LaunchRequest): Promise<void> {
    this.launched.push(r);
    if (this.dropNext > 0) {
      this.dropNext -= 1;
      return;
    }
    setImmediate(() => void this.run(r));
  }
  async terminate(): Promise<void> {}
  async kill(id: string): Promise<void> {
    this.killed.push(id);
  }
  async close(): Promise<void> {}
}

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));
const dir = tempHome();
let metadata: MetadataStore;
let registry: PipelineRegistry;
let services: Services;
const noop = () => undefined;
const logger = { debug: noop, info: noop, warn: noop, error: noop };

before(async () => {
  metadata = await createPgliteMetadataStore({ dataDir: `${dir.home}/metadata` });
  await metadata.migrate();
  registry = await loadPipelines([fixtures]);
  services = {
    metadata,
    warehouse: {} as Warehouse,
    objects: createLocalObjectStore({ root: `${dir.home}/objects` }),
    bus: createMemoryBus(),
    topics: createMemoryDataTopics(),
    metrics: createPromMetrics(),
    logger,
  };
});
after(async () => {
  await services.bus.close();
  await metadata.close();
  dir.cleanup();
});

function coordinator(launcher: FlakyLauncher, heartbeatMs = 50) {
  return new Coordinator(services, registry, launcher, { heartbeatMs, missedHeartbeats: 3, startTimeoutMs: 300 });
}

const runner = (heartbeatMs = 50) => (r: LaunchRequest) =>
  executeAttempt(r, { registry, warehouse: services.warehouse, objects: services.objects, bus: services.bus, topics: services.topics, heartbeatMs }, new AbortController().signal);

test('an attempt that never reports is marked lost, killed, and retried; the run succeeds', async () => {
  const launcher = new FlakyLauncher(runner());
  const c = coordinator(launcher);
  await c.start();
  launcher.dropNext = 1;
  const { done } = await c.submit({ pipeline: 'gate', params: { flakyFailures: 0 } });
  const d = await done;
  await c.close();
  assert.equal(d.run.status, 'succeeded');
  const first = d.attempts.filter((a) => a.step === 'extract');
  assert.deepEqual(first.map((a) => a.status), ['lost', 'succeeded']);
  assert.match(first[0].error ?? '', /lost: no sign of life/);
  assert.deepEqual(launcher.killed, [first[0].id]);
  assert.match(await services.metrics.render(), /sluice_lost_attempts_total\{pipeline="gate",step="extract"\} 1/);
});

test('late events from a fenced-off attempt change nothing', async () => {
  const launcher = new FlakyLauncher(runner());
  const c = coordinator(launcher);
  await c.start();
  launcher.dropNext = 1;
  const { done } = await c.submit({ pipeline: 'gate' });
  const d = await done;
  // Now the "lost" attempt wakes up and reports success, far too late.
  const stale = launcher.launched[0];
  await runner()(stale);
  await new Promise((r) => setTimeout(r, 100));
  const after = await metadata.runs.get(d.run.id);
  await c.close();
  assert.deepEqual(after, d);
});

test('a restarted coordinator finishes the runs the previous one left running', async () => {
  // The first control plane dispatches, then "dies" (its attempts are lost with it).
  const dead = new FlakyLauncher(runner());
  dead.dropNext = 100;
  const c1 = coordinator(dead);
  await c1.start();
  const { run } = await c1.submit({ pipeline: 'gate' });
  await c1.close();
  assert.equal((await metadata.runs.get(run.id))?.run.status, 'running');
  const live = new FlakyLauncher(runner());
  const c2 = coordinator(live);
  let finished!: (s: string) => void;
  const status = new Promise<string>((r) => (finished = r));
  c2.onUpdate((u) => u.kind === 'run' && u.runId === run.id && u.status !== 'running' && finished(u.status));
  await c2.start();
  assert.equal(await status, 'succeeded');
  const d = await metadata.runs.get(run.id);
  await c2.close();
  assert.deepEqual(d?.steps.map((s) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  assert.equal(d?.attempts.filter((a) => a.step === 'extract').map((a) => a.status).join(), 'lost,succeeded');
});

test('runs beyond the global limit wait queued and start as others finish', async () => {
  const launcher = new FlakyLauncher(runner());
  const c = new Coordinator(services, registry, launcher, { heartbeatMs: 50, maxConcurrentRuns: 1 });
  await c.start();
  let maxRunning = 0;
  let running = 0;
  c.onUpdate((u) => {
    if (u.kind !== 'run') return;
    if (u.status === 'running') maxRunning = Math.max(maxRunning, ++running);
    else running -= 1;
  });
  const subs = await Promise.all([1, 2, 3].map(() => c.submit({ pipeline: 'gate' })));
  assert.equal(subs[2].run.status, 'queued');
  const all = await Promise.all(subs.map((s) => s.done));
  await c.close();
  assert.deepEqual(all.map((d) => d.run.status), ['succeeded', 'succeeded', 'succeeded']);
  assert.equal(maxRunning, 1);
});

test('events delivered again after a restart are not applied twice', async () => {
  const { TOPICS } = await import('../../src/ports/event-bus.ts');
  const hold = new FlakyLauncher(runner());
  hold.dropNext = 1;
  const c1 = new Coordinator(services, registry, hold, { heartbeatMs: 5_000 });
  await c1.start();
  const { run } = await c1.submit({ pipeline: 'gate' });
  const req = hold.launched[0];
  const base = { v: 1, runId: req.runId, attemptId: req.attemptId, step: req.step, ts: new Date().toISOString() };
  const events = [
    { ...base, seq: 0, type: 'attempt.started', attempt: 1 },
    { ...base, seq: 1, type: 'asset.materialized', asset: 'gate.extract', partition: null, rows: 3, metadata: {} },
  ];
  for (const e of events) await services.bus.publish(TOPICS.events, req.runId, e);
  for (let i = 0; i < 100; i++) {
    if ((await metadata.assets.history({ runId: run.id })).materializations.length === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await c1.close();
  const c2 = new Coordinator(services, registry, new FlakyLauncher(runner()), { heartbeatMs: 5_000 });
  let finished!: () => void;
  const ended = new Promise<void>((r) => (finished = r));
  c2.onUpdate((u) => u.kind === 'run' && u.runId === run.id && u.status !== 'running' && finished());
  await c2.start();
  // The broker hands the same events over again, then the attempt goes on.
  for (const e of events) await services.bus.publish(TOPICS.events, req.runId, e);
  await services.bus.publish(TOPICS.events, req.runId, { ...base, seq: 2, type: 'check.evaluated', partition: null, result: { asset: 'gate.extract', check: 'must_pass', severity: 'error', passed: true, message: 'ok', value: 1 } });
  await services.bus.publish(TOPICS.events, req.runId, { ...base, seq: 3, type: 'attempt.succeeded', rowsWritten: 3 });
  await ended;
  await c2.close();
  const h = await metadata.assets.history({ runId: run.id, asset: 'gate.extract' });
  assert.equal(h.materializations.length, 1);
  assert.equal(h.checks.filter((c) => c.check === 'must_pass').length, 1);
  assert.equal((await metadata.runs.get(run.id))?.run.status, 'succeeded');
});

test('an event applied just before a crash, its history not yet written, counts once when delivered again', async () => {
  const { TOPICS } = await import('../../src/ports/event-bus.ts');
  // The first control plane dies after applying the events but before its write buffer
  // reached the store: from then on its batched writes never land.
  let dead = false;
  const dying = new Proxy(metadata, {
    get(target, key) {
      if (key === 'write' && dead) return () => new Promise(() => undefined);
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const hold = new FlakyLauncher(runner());
  hold.dropNext = 1;
  const c1 = new Coordinator({ ...services, metadata: dying }, registry, hold, { heartbeatMs: 5_000 });
  await c1.start();
  const { run } = await c1.submit({ pipeline: 'gate' });
  dead = true;
  const req = hold.launched[0];
  const base = { v: 1, runId: req.runId, attemptId: req.attemptId, step: req.step, ts: new Date().toISOString() };
  const events = [
    { ...base, seq: 0, type: 'attempt.started', attempt: 1 },
    { ...base, seq: 1, type: 'asset.materialized', asset: 'gate.extract', partition: null, rows: 3, metadata: {} },
    { ...base, seq: 2, type: 'check.evaluated', partition: null, result: { asset: 'gate.extract', check: 'must_pass', severity: 'error', passed: true, message: 'ok', value: 1 } },
  ];
  for (const e of events) await services.bus.publish(TOPICS.events, req.runId, e);
  // Give the dead coordinator every chance to write what it would write without the batch.
  await new Promise((r) => setTimeout(r, 300));
  await c1.close();
  const c2 = new Coordinator(services, registry, new FlakyLauncher(runner()), { heartbeatMs: 5_000 });
  let finished!: () => void;
  const ended = new Promise<void>((r) => (finished = r));
  c2.onUpdate((u) => u.kind === 'run' && u.runId === run.id && u.status !== 'running' && finished());
  await c2.start();
  // Nothing was committed on the bus: everything comes again, then the attempt goes on.
  for (const e of events) await services.bus.publish(TOPICS.events, req.runId, e);
  await services.bus.publish(TOPICS.events, req.runId, { ...base, seq: 3, type: 'attempt.succeeded', rowsWritten: 3 });
  await ended;
  await c2.close();
  const h = await metadata.assets.history({ runId: run.id, asset: 'gate.extract' });
  assert.equal(h.materializations.length, 1, 'materialized once');
  assert.equal(h.checks.filter((c) => c.check === 'must_pass').length, 1, 'checked once');
  assert.equal((await metadata.runs.get(run.id))?.run.status, 'succeeded');
});
