import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../src/presets/runtime.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));
const dir = tempHome();
let rt: Runtime;

before(async () => {
  rt = await openTestRuntime(dir.home, { pipelines: [fixtures] });
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

const run = async (params: Record<string, unknown>) => {
  const { done } = await rt.coordinator.submit({ pipeline: 'gate', params });
  const detail = await done;
  return { detail, status: Object.fromEntries(detail.steps.map((s) => [s.step, s.status])) };
};

test('all steps succeed when nothing goes wrong', async () => {
  const { detail, status } = await run({});
  assert.equal(detail.run.status, 'succeeded');
  assert.deepEqual(status, { extract: 'succeeded', flaky: 'succeeded', slow: 'succeeded', report: 'succeeded' });
});

test('a failing error check skips every downstream step and fails the run, naming the check', async () => {
  const { detail, status } = await run({ failCheck: 'true' });
  assert.equal(detail.run.status, 'failed');
  assert.match(detail.run.error ?? '', /check gate\.extract:must_pass failed/);
  assert.deepEqual(status, { extract: 'succeeded', flaky: 'skipped', slow: 'skipped', report: 'skipped' });
  // The check's value travels with it: into the run's error and every skipped step's reason.
  assert.match(detail.run.error ?? '', /check gate\.extract:must_pass failed \(severity error\) — value 1/);
  for (const s of detail.steps.filter((x) => x.status === 'skipped')) assert.match(s.reason ?? '', /must_pass failed \(severity error\) — value 1/);
  const h = await rt.services.metadata.assets.history({ runId: detail.run.id });
  assert.deepEqual(h.checks.map((c) => [c.check, c.passed]).sort(), [['must_pass', false], ['nice_to_have', true]]);
});

test('a failing warn check is recorded but blocks nothing', async () => {
  const { detail } = await run({ warnCheck: 'true' });
  assert.equal(detail.run.status, 'succeeded');
  const h = await rt.services.metadata.assets.history({ runId: detail.run.id });
  assert.equal(h.checks.find((c) => c.check === 'nice_to_have')?.passed, false);
});

test('a flaky step is retried per its policy and the run succeeds', async () => {
  const { detail, status } = await run({ flakyFailures: 2 });
  assert.equal(detail.run.status, 'succeeded');
  assert.equal(status.flaky, 'succeeded');
  const attempts = detail.attempts.filter((a) => a.step === 'flaky');
  assert.deepEqual(attempts.map((a) => a.status), ['failed', 'failed', 'succeeded']);
  assert.match(attempts[0].error ?? '', /flaky failure 1/);
});

test('a step that keeps failing exhausts its attempts and fails the run', async () => {
  const { detail, status } = await run({ flakyFailures: 5 });
  assert.equal(detail.run.status, 'failed');
  assert.deepEqual(status, { extract: 'succeeded', flaky: 'failed', slow: 'skipped', report: 'skipped' });
  assert.equal(detail.attempts.filter((a) => a.step === 'flaky').length, 3);
});

test('a step past its timeout fails with a timeout error', async () => {
  const { detail, status } = await run({ hang: 'true' });
  assert.equal(status.slow, 'failed');
  assert.match(detail.steps.find((s) => s.step === 'slow')?.reason ?? '', /timed out/);
});

test('bad params are refused before a run is recorded, naming the field', async () => {
  const before = (await rt.services.metadata.runs.list({ pipeline: 'gate', limit: 1000 })).length;
  await assert.rejects(rt.coordinator.submit({ pipeline: 'gate', params: { flakyFailures: 'many' } }), /bad param flakyFailures/);
  await assert.rejects(rt.coordinator.submit({ pipeline: 'gate', params: { nope: 1 } }), /nope/);
  await assert.rejects(rt.coordinator.submit({ pipeline: 'nope' }), /pipeline not found: nope/);
  assert.equal((await rt.services.metadata.runs.list({ pipeline: 'gate', limit: 1000 })).length, before);
});

test('run history records events in order', async () => {
  const { detail } = await run({});
  const events = await rt.services.metadata.runs.events({ runId: detail.run.id, limit: 1000 });
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'run.started');
  assert.equal(types.at(-1), 'run.succeeded');
  assert.ok(types.indexOf('step.succeeded') > types.indexOf('step.running'));
  assert.deepEqual([...events.map((e) => e.id)].sort((a, b) => a - b), events.map((e) => e.id));
});
