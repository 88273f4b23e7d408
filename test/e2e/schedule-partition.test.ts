import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../src/presets/runtime.ts';
import { Scheduler } from '../../src/runtime/scheduler.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

// The scheduler against the real coordinator: retail's daily schedule (01:00 UTC, the day
// that just closed) submits its partition, the partition rules admit it, and on the shipped
// sample, which has no such recent day, the run ends no_data instead of failing.
const dir = tempHome();
let rt: Runtime;
before(async () => {
  rt = await openTestRuntime(dir.home);
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

test('a retail schedule tick submits yesterday, which is admitted and ends no_data on the sample', async () => {
  const midnight = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z').getTime();
  const clock = { t: midnight + 30 * 60_000, now: () => new Date(clock.t) };
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const scheduler = new Scheduler({ registry: rt.registry, store: rt.services.metadata.schedules, submit: (r) => rt.coordinator.submit(r), clock, logger });
  assert.equal(await scheduler.tick(), 0, 'first sight registers the schedule');
  clock.t = midnight + 61 * 60_000;
  assert.equal(await scheduler.tick(), 1);
  const [tick] = await rt.services.metadata.schedules.listTicks({ limit: 10 });
  const yesterday = new Date(midnight - 86_400_000).toISOString().slice(0, 10);
  assert.deepEqual([tick.pipeline, tick.schedule, tick.partition, tick.status], ['retail', 'daily', yesterday, 'submitted']);
  let detail = await rt.services.metadata.runs.get(tick.runId);
  for (let i = 0; i < 600 && !detail?.run.finishedAt; i++) {
    await new Promise((r) => setTimeout(r, 50));
    detail = await rt.services.metadata.runs.get(tick.runId);
  }
  assert.equal(detail?.run.partition, yesterday);
  assert.equal(detail?.run.status, 'no_data', detail?.run.error ?? '');
  assert.match(detail?.run.error ?? '', new RegExp(`^no rows for ${yesterday} in `));
});
