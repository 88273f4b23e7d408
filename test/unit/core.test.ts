import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamOf, topoSort } from '../../src/core/dag.ts';
import { partitionKeys, partitionWindow } from '../../src/core/partitions.ts';
import { backoffDelay } from '../../src/core/retry.ts';
import { finalRunStatus, readySteps, skipDownstream, type PlannedStep } from '../../src/core/run-plan.ts';
import { canTransitionStep, STEP_STATUSES } from '../../src/core/states.ts';

test('topoSort orders by dependency and names cycles and unknown deps', () => {
  assert.deepEqual(topoSort([{ name: 'c', deps: ['b'] }, { name: 'a', deps: [] }, { name: 'b', deps: ['a'] }]), ['a', 'b', 'c']);
  assert.throws(() => topoSort([{ name: 'a', deps: ['b'] }, { name: 'b', deps: ['a'] }]), /dependency cycle: a -> b -> a/);
  assert.throws(() => topoSort([{ name: 'a', deps: ['x'] }]), /depends on unknown step "x"/);
  assert.throws(() => topoSort([{ name: 'a', deps: [] }, { name: 'a', deps: [] }]), /duplicate step name "a"/);
});

test('downstreamOf is transitive', () => {
  const nodes = [{ name: 'a', deps: [] }, { name: 'b', deps: ['a'] }, { name: 'c', deps: ['b'] }, { name: 'd', deps: [] }];
  assert.deepEqual([...downstreamOf(nodes, 'a')].sort(), ['b', 'c']);
});

test('daily and monthly partitions: windows, ranges, and bad keys', () => {
  const daily = { granularity: 'daily' as const, start: '2010-12-01' };
  assert.deepEqual(partitionWindow(daily, '2010-12-31'), { key: '2010-12-31', start: '2010-12-31', end: '2011-01-01' });
  assert.deepEqual(partitionKeys(daily, '2010-12-30', '2011-01-02'), ['2010-12-30', '2010-12-31', '2011-01-01', '2011-01-02']);
  assert.throws(() => partitionWindow(daily, '2010-11-30'), /outside 2010-12-01/);
  assert.throws(() => partitionWindow(daily, '2010-02-30'), /not a valid daily key/);
  assert.throws(() => partitionKeys(daily, '2010-12-05', '2010-12-01'), /is after/);
  const monthly = { granularity: 'monthly' as const, start: '2019-01', end: '2019-12' };
  assert.deepEqual(partitionWindow(monthly, '2019-02'), { key: '2019-02', start: '2019-02-01', end: '2019-03-01' });
  assert.equal(partitionKeys(monthly, '2019-01', '2019-12').length, 12);
  assert.throws(() => partitionWindow(monthly, '2020-01'), /outside/);
});

test('backoff doubles, is capped, and keeps at least half the delay', () => {
  const p = { backoffMs: 100, maxBackoffMs: 1000 };
  assert.equal(backoffDelay(p, 1, () => 0), 50);
  assert.equal(backoffDelay(p, 1, () => 1), 100);
  assert.equal(backoffDelay(p, 3, () => 1), 400);
  assert.equal(backoffDelay(p, 10, () => 1), 1000);
});

test('run plan: ready steps, skipping downstream, final status', () => {
  const steps: PlannedStep[] = [
    { name: 'a', deps: [], status: 'pending', reason: null },
    { name: 'b', deps: ['a'], status: 'pending', reason: null },
    { name: 'c', deps: ['a'], status: 'pending', reason: null },
  ];
  assert.deepEqual(readySteps(steps).map((s) => s.name), ['a']);
  steps[0].status = 'succeeded';
  assert.deepEqual(readySteps(steps).map((s) => s.name), ['b', 'c']);
  steps[1].status = 'failed';
  steps[1].reason = 'boom';
  assert.equal(finalRunStatus(steps, false), null);
  steps[2].status = 'succeeded';
  assert.equal(finalRunStatus(steps, false), 'failed');
  const gate: PlannedStep[] = [
    { name: 'a', deps: [], status: 'succeeded', reason: 'check x failed' },
    { name: 'b', deps: ['a'], status: 'pending', reason: null },
  ];
  assert.deepEqual(skipDownstream(gate, 'a', 'blocked').map((s) => s.name), ['b']);
  assert.equal(finalRunStatus(gate, false), 'failed');
});

test('step transitions: only forward moves; a finished step never moves again', () => {
  assert.equal(canTransitionStep('pending', 'running'), true);
  assert.equal(canTransitionStep('running', 'retrying'), true);
  assert.equal(canTransitionStep('retrying', 'running'), true);
  assert.equal(canTransitionStep('pending', 'skipped'), true);
  assert.equal(canTransitionStep('running', 'skipped'), false, 'a running step is cancelled or ends, never skipped');
  assert.equal(canTransitionStep('pending', 'succeeded'), false, 'nothing succeeds without running');
  for (const done of ['succeeded', 'failed', 'skipped', 'cancelled'] as const) {
    for (const to of STEP_STATUSES) assert.equal(canTransitionStep(done, to), false, `${done} → ${to}`);
  }
});
