import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.ts';
import { checkNotFuture, currentPartitionKey } from '../../src/core/partitions.ts';

const now = new Date('2026-12-02T23:30:00Z');

test('the current open partition is the last one a run may name without --allow-future', () => {
  const daily = { granularity: 'daily' as const, start: '2010-12-01' };
  const monthly = { granularity: 'monthly' as const, start: '2010-12' };
  assert.equal(currentPartitionKey(daily, now), '2026-12-02');
  assert.equal(currentPartitionKey(monthly, now), '2026-12');
  for (const ok of ['2010-12-01', '2026-12-01', '2026-12-02']) checkNotFuture(daily, ok, now);
  checkNotFuture(monthly, '2026-12', now);
  assert.throws(() => checkNotFuture(daily, '2026-12-03', now), (e: Error) =>
    e instanceof ValidationError && e.field === 'partition' && /"2026-12-03" is in the future: the current open daily partition is 2026-12-02/.test(e.message));
  assert.throws(() => checkNotFuture(monthly, '2027-01', now), /the current open monthly partition is 2026-12/);
  checkNotFuture(daily, '2026-12-03', now, true);
});
