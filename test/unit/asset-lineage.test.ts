import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.ts';
import { asset } from '../../src/sdk/asset.ts';
import { assetLineage } from '../../src/sdk/lineage.ts';
import { pipeline } from '../../src/sdk/pipeline.ts';
import { step } from '../../src/sdk/step.ts';

const noop = () => undefined;

test('declared asset deps make the edges; an asset without them gets its step deps\' assets', () => {
  const raw = asset({ name: 'raw.t', deps: [] });
  const bad = asset({ name: 'quality.bad', deps: [] });
  const clean = asset({ name: 'staging.t', deps: [raw] });
  const report = asset({ name: 'report.t' });
  const load = step({ name: 'load', assets: [raw, bad], run: noop });
  const stage = step({ name: 'stage', deps: [load], assets: [clean], run: noop });
  const end = step({ name: 'end', deps: [stage], assets: [report], run: noop });
  const p = pipeline({ name: 'p', steps: [load, stage, end] });
  assert.deepEqual(assetLineage(p.steps), [{ from: 'raw.t', to: 'staging.t' }, { from: 'staging.t', to: 'report.t' }]);
});

test('an asset dep that is unknown, or of a step not upstream, fails the build with the step', () => {
  const a = asset({ name: 'a.t', deps: [] });
  const s1 = step({ name: 's1', assets: [a], run: noop });
  const typo = step({ name: 's2', deps: [s1], assets: [asset({ name: 'b.t', deps: ['a.tt'] })], run: noop });
  assert.throws(() => pipeline({ name: 'p', steps: [s1, typo] }), (e: Error) =>
    e instanceof ValidationError && /asset "b\.t" depends on unknown asset "a\.tt" \(step "s2" at .*asset-lineage\.test\.ts:\d+/.test(e.message));
  const sideways = step({ name: 's3', assets: [asset({ name: 'c.t', deps: [a] })], run: noop });
  assert.throws(() => pipeline({ name: 'p', steps: [s1, sideways] }), /depends on "a\.t" of step "s1", which step "s3" does not depend on/);
  const twice = step({ name: 's4', deps: [s1], assets: [a], run: noop });
  assert.throws(() => pipeline({ name: 'p', steps: [s1, twice] }), /asset "a\.t" is declared by steps "s1" and "s4"/);
  assert.throws(() => asset({ name: 'x.t', deps: ['x.t'] }), /lists itself/);
});
