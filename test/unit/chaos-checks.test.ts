import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventRecord, RunDetail } from '../chaos/api.ts';
import { spareAttempts } from '../chaos/moments.ts';
import { planInjection } from '../chaos/plan.ts';
import { checkRunEvents, checkRunRecord } from '../chaos/run-checks.ts';
import { checkWarehouse } from '../chaos/warehouse-checks.ts';

// The fault campaign's own checks must see what they are there for; a checker that finds
// nothing in a broken history would make a clean campaign mean nothing.
const DAYS = ['2010-12-01', '2010-12-02', '2010-12-03'];

function run(status: string, attempts: [string, number, string][], steps: [string, string, number][] = [['load', status, attempts.length]]): RunDetail {
  return {
    run: { id: 'r1', pipeline: 'dummy', partition: null, params: { records: 10 }, status, error: null, createdAt: '', finishedAt: status === 'running' ? null : 'x' },
    steps: steps.map(([step, s, n]) => ({ step, status: s, attempts: n, reason: null })),
    attempts: attempts.map(([step, attempt, s], i) => ({ id: `a${i + 1}`, step, attempt, status: s, error: null, startedAt: '', finishedAt: 'x' })),
  };
}

let nextId = 1;
const ev = (type: string, attemptId: string | null, seq?: number): EventRecord => ({
  id: nextId++, runId: 'r1', type, step: 'load', attemptId, payload: seq === undefined ? {} : { seq },
});

test('a seed always gives the same plan, and another seed another one', () => {
  const plans = (seed: number) => Array.from({ length: 30 }, (_, i) => planInjection(seed, i, 'kafka', DAYS));
  assert.deepEqual(plans(2), plans(2));
  assert.notDeepEqual(plans(2), plans(3));
  assert.deepEqual([...new Set(plans(2).map((p) => p.target))].sort(), ['broker', 'control-plane', 'worker']);
  assert.ok(Array.from({ length: 30 }, (_, i) => planInjection(2, i, 'memory', DAYS)).every((p) => p.target !== 'broker'));
});

test('run records: unfinished runs, wrong outcomes, a step succeeded twice are violations', () => {
  const kinds = (d: RunDetail, expect: 'succeeded' | 'failed' = 'succeeded') =>
    checkRunRecord(d, { kind: 'dummy', pipeline: 'dummy', params: {}, expect, exclusive: false }).map((v) => v.kind);
  assert.deepEqual(kinds(run('succeeded', [['load', 1, 'lost'], ['load', 2, 'succeeded']])), []);
  assert.deepEqual(kinds(run('failed', [['load', 1, 'failed']]), 'failed'), []);
  assert.deepEqual(kinds(run('running', [['load', 1, 'running']], [['load', 'running', 1]])), ['run-never-ended']);
  assert.deepEqual(kinds(run('failed', [['load', 1, 'lost'], ['load', 2, 'lost'], ['load', 3, 'lost']])), ['outcome']);
  assert.deepEqual(kinds(run('succeeded', [['load', 1, 'succeeded']], [['load', 'skipped', 1]])), ['step-outcome']);
  assert.deepEqual(kinds(run('succeeded', [['load', 1, 'succeeded'], ['load', 2, 'succeeded']])), ['succeeded-twice']);
  assert.deepEqual(kinds(run('succeeded', [['load', 1, 'lost'], ['load', 1, 'succeeded']])), ['attempt-duplicated']);
});

test('event history: replays applied twice, fenced-off events applied, two endings are violations', () => {
  const d = run('succeeded', [['load', 1, 'lost'], ['load', 2, 'succeeded']]);
  const kinds = (events: EventRecord[]) => checkRunEvents(d, events).map((v) => v.kind);
  const good = [ev('progress', 'a1', 1), ev('attempt.lost', 'a1'), ev('progress', 'a2', 1), ev('asset.materialized', 'a2', 2), ev('step.succeeded', 'a2'), ev('run.succeeded', null)];
  assert.deepEqual(kinds(good), []);
  assert.deepEqual(kinds([ev('progress', 'a2', 1), ev('progress', 'a2', 1), ev('step.succeeded', 'a2'), ev('run.succeeded', null)]), ['event-seq']);
  assert.deepEqual(kinds([ev('attempt.lost', 'a1'), ev('asset.materialized', 'a1', 3), ev('step.succeeded', 'a2'), ev('run.succeeded', null)]), ['fenced-event-applied']);
  assert.deepEqual(kinds([ev('step.succeeded', 'a2'), ev('run.succeeded', null), ev('run.succeeded', null)]), ['terminal-events']);
  assert.deepEqual(kinds([ev('step.succeeded', 'a2'), ev('run.failed', null)]), ['terminal-events']);
  assert.deepEqual(kinds([ev('step.succeeded', 'a2'), ev('run.succeeded', null), ev('progress', 'a2', 9)]), ['event-after-end', 'fenced-event-applied']);
  assert.deepEqual(kinds([ev('step.succeeded', 'a1'), ev('step.succeeded', 'a2'), ev('run.succeeded', null)]), ['succeeded-twice']);
});

test('warehouse: totals off the baseline and rows twice are violations', () => {
  const base = { counts: { raw: 10, products: 3 }, duplicates: { raw: 0, leftover_tables: 0 } };
  assert.deepEqual(checkWarehouse(base, base, 'end'), []);
  const off = checkWarehouse({ counts: { raw: 12, products: 3 }, duplicates: { raw: 2, leftover_tables: 1 } }, base, 'end');
  assert.deepEqual(off.map((v) => v.kind), ['warehouse-totals', 'warehouse-duplicates']);
  assert.match(off[1].message, /raw 2, leftover_tables 1/);
});

test('a fault is charged only to runs that have an attempt to spare', () => {
  const max = () => 3;
  const steps = (status: string, attempts: number): RunDetail => ({ ...run('running', []), steps: [{ step: 'load', status, attempts, reason: null }] });
  assert.equal(spareAttempts(steps('running', 1), max), 2);
  assert.equal(spareAttempts(steps('running', 3), max), 0);
  // Retrying: the next attempt will run, so one fewer may still be lost.
  assert.equal(spareAttempts(steps('retrying', 2), max), 0);
  assert.equal(spareAttempts(steps('pending', 0), max), 2);
});
