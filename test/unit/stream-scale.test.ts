import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideScale, ownsPartition, streamScaleSchema, wantedReplicas } from '../../src/core/stream-scale.ts';
import { step } from '../../src/sdk/step.ts';

const policy = streamScaleSchema.parse({ maxReplicas: 4, lagPerReplica: 1_000, scaleDownAfterMs: 10_000 });

test('the lag asks for one replica per lagPerReplica records, within 1 and the smaller of maxReplicas and the partitions', () => {
  assert.equal(wantedReplicas(policy, 0, 8), 1);
  assert.equal(wantedReplicas(policy, 1_000, 8), 1);
  assert.equal(wantedReplicas(policy, 1_001, 8), 2);
  assert.equal(wantedReplicas(policy, 1_000_000, 8), 4, 'maxReplicas');
  assert.equal(wantedReplicas(policy, 1_000_000, 3), 3, 'no more replicas than partitions');
  assert.equal(wantedReplicas(policy, 1_000_000, 0), 1);
});

test('out at once, in only after the lag stayed low for scaleDownAfterMs without a break', () => {
  assert.deepEqual(decideScale(policy, { count: 1, lag: 3_500, partitions: 8, at: 0, lowSince: null }), { to: 4, lowSince: null });
  const low = decideScale(policy, { count: 4, lag: 10, partitions: 8, at: 1_000, lowSince: null });
  assert.deepEqual(low, { to: null, lowSince: 1_000 });
  assert.deepEqual(decideScale(policy, { count: 4, lag: 10, partitions: 8, at: 10_999, lowSince: low.lowSince }), { to: null, lowSince: 1_000 });
  // A burst in between starts the wait again.
  assert.deepEqual(decideScale(policy, { count: 4, lag: 3_800, partitions: 8, at: 5_000, lowSince: 1_000 }), { to: null, lowSince: null });
  assert.deepEqual(decideScale(policy, { count: 4, lag: 10, partitions: 8, at: 11_000, lowSince: 1_000 }), { to: 1, lowSince: null });
  assert.deepEqual(decideScale(policy, { count: 4, lag: 2_500, partitions: 8, at: 11_000, lowSince: 1_000 }), { to: 3, lowSince: null });
});

test('a replica owns the partitions whose number modulo the count is its index: each partition exactly one', () => {
  for (const count of [1, 2, 3, 5]) {
    for (let p = 0; p < 12; p++) {
      const owners = Array.from({ length: count }, (_, index) => index).filter((index) => ownsPartition({ index, count }, p));
      assert.deepEqual(owners, [p % count]);
    }
  }
});

test('scale is checked where the step is declared', () => {
  const run = async () => undefined;
  assert.throws(() => step({ name: 'a', scale: { maxReplicas: 2, lagPerReplica: 10 }, run }), /step a: scale is for stream steps/);
  assert.throws(() => step({ name: 'a', stream: true, scale: { maxReplicas: 0, lagPerReplica: 10 }, run }), /step a: scale\.maxReplicas: /);
  assert.throws(() => step({ name: 'a', stream: true, scale: { maxReplicas: 2, lagPerReplica: 10, every: 1 } as never, run }), /step a: scale/);
  assert.deepEqual(step({ name: 'a', stream: true, scale: { maxReplicas: 2, lagPerReplica: 10 }, run }).scale, { maxReplicas: 2, lagPerReplica: 10, scaleDownAfterMs: 60_000 });
  assert.equal(step({ name: 'a', stream: true, run }).scale, null);
});
