import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeRun } from '../../src/cli/run-summary.ts';
import { MAX_MESSAGE_CHARS, SluiceError, StepError, boundMessage, describeError } from '../../src/core/errors.ts';
import { parseAttemptEvent } from '../../src/core/events.ts';
import { MAX_STACK_CHARS } from '../../src/core/failure.ts';
import type { Runtime } from '../../src/presets/runtime.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

// A 5 MB header line once became a 5 MB run error, stored, streamed and printed (10 MB of
// --json). Every place an error travels must hold a few hundred characters instead.
const dir = tempHome();
const HEADER = 'H'.repeat(5 * 1024 * 1024);
const LIMIT = MAX_MESSAGE_CHARS + 40;
let rt: Runtime;

before(async () => {
  writeFileSync(join(dir.home, 'huge-header.csv'), `${HEADER}\n536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n`);
  rt = await openTestRuntime(dir.home);
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

test('boundMessage cuts to the limit and says how long the text was; short text is untouched', () => {
  assert.equal(boundMessage('short'), 'short');
  const cut = boundMessage('x'.repeat(10_000));
  assert.equal(cut, `${'x'.repeat(MAX_MESSAGE_CHARS)}… (10000 chars)`);
  // A surrogate pair at the cut is not split.
  assert.ok(!/[\uD800-\uDBFF]…/.test(boundMessage(`${'x'.repeat(MAX_MESSAGE_CHARS - 1)}😀😀😀`)));
  assert.ok(new SluiceError('internal', 'y'.repeat(1e6)).message.length < LIMIT);
  assert.ok(new StepError('raw', new Error('z'.repeat(1e6))).message.length < LIMIT);
  assert.ok(describeError('w'.repeat(1e6)).length < LIMIT);
  const ev = parseAttemptEvent({
    v: 1, runId: 'r', attemptId: 'a', step: 's', seq: 0, ts: 'now', type: 'attempt.failed',
    error: { code: 'x', message: 'm'.repeat(1e6), retryable: false },
  });
  assert.ok(ev.type === 'attempt.failed' && ev.error.message.length < LIMIT);
});

test('a 5 MB header line gives a run error of bounded length in the run, step, attempt, events and --json summary', async () => {
  const { done } = await rt.coordinator.submit({ pipeline: 'retail', allPartitions: true, params: { source: join(dir.home, 'huge-header.csv') } });
  const detail = await done;
  assert.equal(detail.run.status, 'failed');
  const error = detail.run.error ?? '';
  assert.match(error, /header is "HHHH/);
  assert.match(error, /… \(\d+ chars\)$/);
  assert.ok(error.length < LIMIT, `run error is ${error.length} chars`);
  for (const s of detail.steps) assert.ok((s.reason ?? '').length < LIMIT, `step ${s.step} reason`);
  for (const a of detail.attempts) assert.ok((a.error ?? '').length < LIMIT, `attempt ${a.id} error`);
  const events = await rt.services.metadata.runs.events({ runId: detail.run.id });
  // An attempt.failed event also carries the error's stack, bounded on its own.
  for (const e of events) assert.ok(JSON.stringify(e.payload).length < 4 * LIMIT + MAX_STACK_CHARS + 100, `event ${e.type} is ${JSON.stringify(e.payload).length} chars`);
  const history = await rt.services.metadata.assets.history({ runId: detail.run.id, limit: 1000 });
  const json = JSON.stringify(summarizeRun(detail, history.materializations, history.checks), null, 2);
  assert.ok(json.length < 20_000, `--json is ${json.length} chars`);
});
