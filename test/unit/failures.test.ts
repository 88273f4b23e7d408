import type { DataTopics } from '../../src/ports/data-topics.ts';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { warehouseError } from '../../src/adapters/clickhouse/warehouse-error.ts';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { InternalError, ParamsError, SluiceError, StepError, ValidationError, retryabilityOf } from '../../src/core/errors.ts';
import { parseAttemptEvent, type AttemptEvent } from '../../src/core/events.ts';
import { failureDetail, firstUserFrame, MAX_STACK_CHARS } from '../../src/core/failure.ts';
import type { LaunchRequest } from '../../src/ports/launcher.ts';
import type { GaugeValue } from '../../src/ports/metadata-store.ts';
import type { ObjectStore } from '../../src/ports/object-store.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { executeAttempt } from '../../src/runtime/attempt-executor.ts';
import { DurableCounters } from '../../src/runtime/durable-counters.ts';
import { loadPipelines, type PipelineRegistry } from '../../src/runtime/pipeline-registry.ts';
import { logFailure } from '../../src/runtime/attempt-failure.ts';
import { decideRetry } from '../../src/runtime/retry-decision.ts';
import { eventToUpdate } from '../../src/cli/remote-run.ts';
import { nonRetryable, retryable } from '../../src/sdk/retry-errors.ts';
import { parseParams } from '../../src/sdk/pipeline.ts';
import { recordingBus } from '../helpers/recording-bus.ts';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));
const shipped = fileURLToPath(new URL('../../pipelines/', import.meta.url));
const fixtureFile = `${fixtures}errors.ts`;
/** The line of the fixture that throws the TypeError, 1-based. */
const typeErrorLine = readFileSync(fixtureFile, 'utf8').split('\n').findIndex((l) => l.includes('// throws: TypeError')) + 1;
const noop = () => undefined;
const logger = { debug: noop, info: noop, warn: noop, error: noop };
let registry: PipelineRegistry;

before(async () => {
  registry = await loadPipelines([fixtures, shipped]);
});

/** Runs one attempt of the `errors` fixture on a bus that only records what is published. */
async function attemptEvents(req: Partial<LaunchRequest>, reg: Pick<PipelineRegistry, 'get'> = registry): Promise<AttemptEvent[]> {
  const { bus, published } = recordingBus();
  const request: LaunchRequest = {
    runId: 'r1', attemptId: 'a1', attempt: 1, pipeline: 'errors', step: 'boom', params: {}, partition: null, timeoutMs: null, ...req,
  };
  await executeAttempt(request, {
    registry: reg as PipelineRegistry, warehouse: {} as Warehouse, objects: {} as ObjectStore, bus, topics: {} as DataTopics, heartbeatMs: 60_000,
  }, new AbortController().signal);
  return published;
}

const failedWith = (events: AttemptEvent[]) => {
  const e = events.find((x) => x.type === 'attempt.failed');
  assert.ok(e?.type === 'attempt.failed', `no attempt.failed in ${events.map((x) => x.type).join(', ')}`);
  return e.error;
};

test('a TypeError in a step reports its class, its stack and the pipeline file\'s line', async () => {
  const error = failedWith(await attemptEvents({ params: { fail: 'type-error' } }));
  assert.equal(error.code, 'step_failed');
  assert.equal(error.name, 'TypeError');
  assert.equal(error.retryable, true);
  assert.match(error.message, /^step boom failed: TypeError: Cannot read properties of undefined \(reading 'total'\)$/);
  assert.match(error.frame ?? '', new RegExp(`^${fixtureFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${typeErrorLine}:\\d+$`));
  assert.match(error.stack ?? '', new RegExp(`errors\\.ts:${typeErrorLine}:\\d+`));
  assert.match(error.stack ?? '', /^TypeError: Cannot read properties of undefined/);
});

test('what fails outside user code is an internal error naming the component, never a step error', async () => {
  const broken = { get: () => { throw new TypeError('registry exploded'); } };
  const error = failedWith(await attemptEvents({}, broken));
  assert.equal(error.code, 'internal');
  assert.equal(error.name, 'TypeError');
  assert.equal(error.message, 'internal error in the attempt executor: TypeError: registry exploded');
  assert.equal(error.frame, undefined, 'no frame of the user\'s: nothing of theirs threw');
  assert.match(error.stack ?? '', /registry exploded/);
});

test('params that the definition no longer accepts are not retryable, and say so', async () => {
  const error = failedWith(await attemptEvents({ params: { fail: 'sometimes' } }));
  assert.equal(error.code, 'validation');
  assert.equal(error.name, 'ParamsError');
  assert.equal(error.retryable, false);
  assert.match(error.message, /bad param fail: expected one of 'none', .*, got 'sometimes'/);
  assert.equal(error.nonRetryableReason, 'the params are invalid, and every attempt gets the same params');
  assert.equal(error.stack, undefined);
  const decision = decideRetry({ maxAttempts: 3, backoffMs: 1, maxBackoffMs: 1 }, 1, error);
  assert.deepEqual(decision, { retry: false, notRetried: 'the params are invalid, and every attempt gets the same params, retry policy allows 3 attempts' });
});

test('nonRetryable() and retryable() override what an error would mean, keeping its class and stack', async () => {
  const marked = failedWith(await attemptEvents({ params: { fail: 'non-retryable' } }));
  assert.deepEqual([marked.retryable, marked.nonRetryableReason, marked.name], [false, 'the file will not change between attempts', 'Error']);
  const revived = failedWith(await attemptEvents({ params: { fail: 'retryable-validation' } }));
  assert.deepEqual([revived.retryable, revived.name], [true, 'ValidationError']);
  const plain = failedWith(await attemptEvents({ params: { fail: 'validation' } }));
  assert.equal(plain.retryable, false, 'a ValidationError alone is not retryable');

  const err = new RangeError('bad');
  assert.equal(nonRetryable(err), err, 'the same error, marked');
  assert.deepEqual(retryabilityOf(err), { retryable: false, reason: 'the step marked the error non-retryable' });
  assert.deepEqual(retryabilityOf(retryable(new ValidationError('not yet'))), { retryable: true, reason: null });
  const fromText = nonRetryable('the export is empty', 'it stays empty');
  assert.deepEqual([fromText.message, retryabilityOf(fromText)], ['the export is empty', { retryable: false, reason: 'it stays empty' }]);
  const frozen = nonRetryable(Object.freeze(new Error('frozen')));
  assert.deepEqual([frozen.message, retryabilityOf(frozen).retryable], ['frozen', false]);
  assert.equal(new StepError('s', nonRetryable(new Error('x'), 'why')).retryable, false);
});

test('the retry decision names the reason and the policy', () => {
  const policy = { maxAttempts: 2, backoffMs: 1, maxBackoffMs: 1 };
  assert.deepEqual(decideRetry(policy, 1, { retryable: true }), { retry: true });
  assert.deepEqual(decideRetry(policy, 2, { retryable: true }), { retry: false, notRetried: 'attempt 2 was the last, retry policy allows 2 attempts' });
  assert.deepEqual(decideRetry({ ...policy, maxAttempts: 1 }, 1, { retryable: true }), { retry: false, notRetried: 'attempt 1 was the last, retry policy allows 1 attempt' });
  assert.deepEqual(decideRetry(policy, 1, { retryable: false, nonRetryableReason: null }), { retry: false, notRetried: 'the error is not retryable, retry policy allows 2 attempts' });
});

test('failure details: bounded stacks with causes, no stack for Sluice\'s own verdicts', () => {
  const deep = new Error('outer', { cause: new TypeError('inner') });
  deep.stack = `Error: outer\n${'    at f (file:///x/p.ts:1:1)\n'.repeat(500)}`;
  const d = failureDetail(new StepError('s', deep));
  assert.ok(d.stack!.length <= MAX_STACK_CHARS + 40, `stack of ${d.stack!.length} chars`);
  assert.equal(d.frame, '/x/p.ts:1:1');
  const withCause = failureDetail(new StepError('s', new Error('outer', { cause: new TypeError('inner') })));
  assert.match(withCause.stack ?? '', /Caused by: TypeError: inner/);
  const params = failureDetail(new ParamsError('bad param x', 'x'));
  assert.deepEqual([params.stack, params.frame, params.retryable], [null, null, false]);
  assert.equal(failureDetail(new InternalError('the bus', new Error('down'))).frame, null);
  assert.equal(failureDetail(new SluiceError('warehouse', 'nope')).nonRetryableReason, 'SluiceError (warehouse) is not retryable');
});

test('the first user frame skips Sluice, node internals and node_modules', () => {
  const sluiceFile = fileURLToPath(new URL('../../src/runtime/attempt-executor.ts', import.meta.url));
  const stack = [
    'TypeError: x',
    '    at Object.run (file:///work/main/node_modules/lib/index.js:3:3)',
    `    at runBounded (${new URL('../../src/runtime/attempt-executor.ts', import.meta.url).href}:10:5)`,
    `    at ${sluiceFile}:12:1`,
    '    at node:internal/process/task_queues:95:5',
    '    at Array.map (<anonymous>)',
    '    at async load (file:///home/me/pipelines/orders/index.ts:42:7)',
  ].join('\n');
  assert.equal(firstUserFrame(stack), '/home/me/pipelines/orders/index.ts:42:7');
  assert.equal(firstUserFrame('Error: x\n    at node:internal/x:1:1'), null);
  assert.equal(firstUserFrame(null), null);
});

test('a bad param names the value given: expected a number, got \'high\'', () => {
  assert.throws(() => parseParams(registry.get('retail'), { maxMissingCustomerRatio: 'high' }), {
    name: 'ParamsError',
    message: "pipeline retail: bad param maxMissingCustomerRatio: expected a number, got 'high'",
  });
  assert.throws(() => parseParams(registry.get('retail'), { maxMissingCustomerRatio: '2' }), {
    name: 'ParamsError',
    message: "pipeline retail: bad param maxMissingCustomerRatio: expected a value ≤ 1, got '2'",
  });
  assert.throws(() => parseParams(registry.get('gate'), { nope: 1 }), { name: 'ParamsError', message: /unknown field: nope/ });
});

test('a SQL error does not show the FORMAT clause the client appended', () => {
  const engine = Object.assign(new Error('Syntax error: failed at position 7 (1) (line 1, col 7): 1 \nFORMAT JSONEachRow. Expected one of: token'), { type: 'SYNTAX_ERROR' });
  const e = warehouseError(engine, 'SELEC 1');
  assert.equal(e.message, 'warehouse: SYNTAX_ERROR: Syntax error: failed at position 7 (1) (line 1, col 7): 1. Expected one of: token [in: SELEC 1]');
  assert.equal(e.retryable, false);
  assert.match(e.nonRetryableReason ?? '', /SYNTAX_ERROR/);
});

test('a stored attempt.failed event reads as a live failure update', () => {
  const u = eventToUpdate({
    id: 1, runId: 'r', type: 'attempt.failed', step: 'boom', attemptId: 'a', ts: '',
    payload: { attempt: 2, notRetried: 'no', error: { code: 'step_failed', message: 'm', retryable: true, name: 'TypeError', frame: '/p.ts:1:2', stack: 's' } },
  });
  assert.deepEqual(u, {
    kind: 'attempt', runId: 'r', step: 'boom', attempt: 2,
    failure: { code: 'step_failed', name: 'TypeError', message: 'm', retryable: true, nonRetryableReason: null, stack: 's', frame: '/p.ts:1:2', notRetried: 'no' },
  });
  assert.equal(eventToUpdate({ id: 2, runId: 'r', type: 'attempt.failed', step: 's', attemptId: 'a', ts: '', payload: { error: { code: 'cancelled' } } }), null);
});

test('an older worker\'s attempt.failed (no name, stack or frame) is still a valid event', () => {
  const e = parseAttemptEvent({ v: 1, runId: 'r', attemptId: 'a', step: 's', seq: 3, ts: 'now', type: 'attempt.failed', error: { code: 'x', message: 'm', retryable: true } });
  assert.equal(e.type, 'attempt.failed');
  const long = parseAttemptEvent({ v: 1, runId: 'r', attemptId: 'a', step: 's', seq: 3, ts: 'now', type: 'attempt.failed', error: { code: 'x', message: 'm', retryable: true, stack: 'y'.repeat(100_000) } });
  assert.ok(long.type === 'attempt.failed' && long.error.stack!.length < MAX_STACK_CHARS + 40);
});

test('counter totals are saved a moment after they change and put back at start', async () => {
  const saved: GaugeValue[][] = [];
  const store = { put: async (v: readonly GaugeValue[]) => void saved.push([...v]) };
  const first = new DurableCounters(createPromMetrics(), store, { logger, flushMs: 10 });
  first.incCounter('sluice_runs_total', 'Runs', { pipeline: 'p', status: 'failed' });
  first.incCounter('sluice_runs_total', 'Runs', { pipeline: 'p', status: 'failed' }, 2);
  first.setGauge('g', 'a gauge', {}, 7);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(saved.flat().map((v) => [v.kind, v.name, v.value]), [['counter', 'sluice_runs_total', 3]]);
  first.incCounter('sluice_runs_total', 'Runs', { status: 'failed', pipeline: 'p' });
  await first.close();
  const last = saved.at(-1)!;
  assert.deepEqual(last.map((v) => v.value), [4], 'the same series, whatever the label order');

  const second = new DurableCounters(createPromMetrics(), store, { logger });
  // The store gives labels back in an order of its own.
  second.restore([{ ...last[0], labels: { status: 'failed', pipeline: 'p' } }, { name: 'g', help: 'h', labels: {}, value: 7, updatedAt: '' }]);
  second.incCounter('sluice_runs_total', 'Runs', { pipeline: 'p', status: 'failed' });
  const text = await second.render();
  assert.match(text, /^sluice_runs_total\{pipeline="p",status="failed"\} 5$/m);
  assert.match(text, /^g 7$/m);
  await second.close();
  assert.equal(saved.at(-1)![0].value, 5);
});

test('each failed attempt is one log line with its stack, for the server log', () => {
  const lines: [object | string, string | undefined][] = [];
  const capture = { ...logger, info: (o: object | string, m?: string) => void lines.push([o, m]) };
  logFailure(capture, { run: 'r', pipeline: 'errors', step: 'boom', attempt: 2 }, {
    code: 'step_failed', name: 'TypeError', message: 'step boom failed: TypeError: x', retryable: true, nonRetryableReason: null,
    stack: 'TypeError: x\n    at run (file:///p.ts:1:1)', frame: '/p.ts:1:1', notRetried: null,
  });
  assert.equal(lines.length, 1);
  assert.equal(lines[0][1], 'attempt 2 of boom failed: step boom failed: TypeError: x');
  assert.deepEqual((lines[0][0] as { error: object }).error, { name: 'TypeError', code: 'step_failed', message: 'step boom failed: TypeError: x', frame: '/p.ts:1:1', stack: 'TypeError: x\n    at run (file:///p.ts:1:1)' });
});
