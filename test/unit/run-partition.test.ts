import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TooLargeError, ValidationError } from '../../src/core/errors.ts';
import { currentPartitionKey } from '../../src/core/partitions.ts';
import { admitBackfillRange, admitRunPartition } from '../../src/core/run-partition.ts';
import { finalRunStatus, type PlannedStep } from '../../src/core/run-plan.ts';
import { tickPartition } from '../../src/runtime/schedule-ticks.ts';
import { daily, monthly } from '../../src/sdk/partitions.ts';

const retail = { name: 'retail', partitions: daily({ start: '2010-12-01' }) };
const taxi = { name: 'taxi', partitions: monthly({ start: '2019-01', end: '2019-12' }) };
const plain = { name: 'plain', partitions: null };
const now = new Date('2026-12-02T23:30:00Z');

/** Asserts a ValidationError on `field` whose message matches. */
const refused = (fn: () => unknown, message: RegExp, field = 'partition') =>
  assert.throws(fn, (e: Error) => e instanceof ValidationError && e.field === field && message.test(e.message), String(message));

test('a partitioned pipeline needs a key or allPartitions; the error names the partitioning', () => {
  refused(() => admitRunPartition(retail, {}, now),
    /^pipeline "retail" is partitioned daily from 2010-12-01, with no end: pass --partition YYYY-MM-DD, or --all-partitions for one run over every partition the source has \(API: partition, or allPartitions: true\)$/);
  refused(() => admitRunPartition(taxi, { partition: null }, now), /^pipeline "taxi" is partitioned monthly from 2019-01 to 2019-12: pass --partition YYYY-MM,/);
  assert.equal(admitRunPartition(retail, { allPartitions: true }, now), null);
  refused(() => admitRunPartition(retail, { partition: '2010-12-01', allPartitions: true }, now), /either a partition key or --all-partitions/, 'allPartitions');
  // An unpartitioned pipeline takes no key, and a run of it covers everything anyway.
  assert.equal(admitRunPartition(plain, {}, now), null);
  assert.equal(admitRunPartition(plain, { allPartitions: true }, now), null);
  refused(() => admitRunPartition(plain, { partition: '2010-12-01' }, now), /pipeline plain is not partitioned; drop --partition/);
});

test('keys before the first, after the last and after the current open partition are refused unless allowOutOfRange', () => {
  assert.equal(admitRunPartition(retail, { partition: '2010-12-01' }, now), '2010-12-01');
  refused(() => admitRunPartition(retail, { partition: '2010-11-30' }, now),
    /^partition key "2010-11-30" is before the first partition: pipeline "retail" is partitioned daily from 2010-12-01, with no end; pass --allow-out-of-range \(API: allowOutOfRange: true\) to run it anyway$/);
  assert.equal(admitRunPartition(retail, { partition: '2010-11-30', allowOutOfRange: true }, now), '2010-11-30');
  refused(() => admitRunPartition(taxi, { partition: '2020-01' }, now), /^partition key "2020-01" is after the last partition: pipeline "taxi" is partitioned monthly from 2019-01 to 2019-12;/);
  assert.equal(admitRunPartition(taxi, { partition: '2020-01', allowOutOfRange: true }, now), '2020-01');
  assert.equal(admitRunPartition(taxi, { partition: '2019-12' }, now), '2019-12');
  // Malformed keys name no window: the override does not help.
  refused(() => admitRunPartition(retail, { partition: '2010-02-30', allowOutOfRange: true }, now), /"2010-02-30" is not a valid daily key \(YYYY-MM-DD\)/);
  refused(() => admitRunPartition(taxi, { partition: '2019-13', allowOutOfRange: true }, now), /"2019-13" is not a valid monthly key \(YYYY-MM\)/);
  refused(() => admitRunPartition(taxi, { partition: '2019-01-01' }, now), /not a valid monthly key/);
});

test('the partition containing now (UTC) is the last allowed, daily and monthly', () => {
  const open = { name: 'm', partitions: monthly({ start: '2010-01' }) };
  assert.equal(currentPartitionKey(retail.partitions, now), '2026-12-02');
  assert.equal(admitRunPartition(retail, { partition: '2026-12-02' }, now), '2026-12-02');
  refused(() => admitRunPartition(retail, { partition: '2026-12-03' }, now),
    /^partition key "2026-12-03" is in the future: the current open daily partition is 2026-12-02 \(UTC\); pass --allow-out-of-range/);
  // One millisecond later it is the next day in UTC, whatever the local time zone of this process.
  assert.equal(admitRunPartition(retail, { partition: '2026-12-03' }, new Date('2026-12-03T00:00:00.000Z')), '2026-12-03');
  refused(() => admitRunPartition(retail, { partition: '2026-12-03' }, new Date('2026-12-02T23:59:59.999Z')), /in the future/);
  assert.equal(admitRunPartition(open, { partition: '2026-12' }, new Date('2026-12-31T23:59:59Z')), '2026-12');
  refused(() => admitRunPartition(open, { partition: '2027-01' }, new Date('2026-12-31T23:59:59Z')), /the current open monthly partition is 2026-12 \(UTC\)/);
  assert.equal(admitRunPartition(open, { partition: '2027-01' }, new Date('2027-01-01T00:00:00Z')), '2027-01');
  assert.equal(admitRunPartition(retail, { partition: '2999-01-01', allowOutOfRange: true }, now), '2999-01-01');
});

test('a schedule in a time zone ahead of UTC fires for a partition UTC has not opened; the scheduler says it checked the range', () => {
  // 12:00 UTC on Dec 2 is 02:00 on Dec 3 in Kiritimati (UTC+14): its "current" day is Dec 3.
  const at = new Date('2026-12-02T12:00:00Z');
  const key = tickPartition('daily', 'current', at, 'Pacific/Kiritimati');
  assert.equal(key, '2026-12-03');
  refused(() => admitRunPartition(retail, { partition: key }, at), /in the future/);
  // What Scheduler#fire submits after its own partitionWindow check.
  assert.equal(admitRunPartition(retail, { partition: key, allowOutOfRange: true }, at), key);
  assert.equal(tickPartition('daily', 'previous', at, 'America/Los_Angeles'), '2026-12-01');
  assert.equal(admitRunPartition(retail, { partition: '2026-12-01' }, at), '2026-12-01');
});

test('a backfill range follows the same rules at both ends', () => {
  assert.deepEqual(admitBackfillRange(retail, '2010-12-30', '2011-01-02', now, false, 1000), ['2010-12-30', '2010-12-31', '2011-01-01', '2011-01-02']);
  refused(() => admitBackfillRange(retail, '2010-11-29', '2010-12-02', now, false, 1000), /"2010-11-29" is before the first partition/);
  assert.equal(admitBackfillRange(retail, '2010-11-29', '2010-12-02', now, true, 1000).length, 4);
  refused(() => admitBackfillRange(retail, '2026-12-01', '2026-12-04', now, false, 1000), /"2026-12-04" is in the future/);
  assert.deepEqual(admitBackfillRange(taxi, '2019-11', '2020-02', now, true, 1000), ['2019-11', '2019-12', '2020-01', '2020-02']);
  refused(() => admitBackfillRange(retail, '2010-12-05', '2010-12-01', now, false, 1000), /--from 2010-12-05 is after --to 2010-12-01/, 'from');
  refused(() => admitBackfillRange(plain, '2010-12-01', '2010-12-02', now, false, 1000), /pipeline plain is not partitioned; use sluice run/, 'pipeline');
  // Counted before any key is made: an override over eight thousand years is refused at once, not listed.
  assert.throws(() => admitBackfillRange(retail, '0001-01-01', '9999-12-31', now, true, 10_000), (e: Error) =>
    e instanceof TooLargeError && e.message === 'backfill of 3652059 partitions is over the limit of 10000; split the range');
  assert.equal(admitBackfillRange(retail, '2010-12-01', '2010-12-10', now, false, 10).length, 10);
  assert.throws(() => admitBackfillRange(retail, '2010-12-01', '2010-12-11', now, false, 10), /backfill of 11 partitions is over the limit of 10/);
  assert.throws(() => admitBackfillRange(taxi, '2019-11', '2021-01', now, true, 14), /backfill of 15 partitions/);
});

test('a run ends no_data when a step said so and nothing failed or was blocked by a check', () => {
  const s = (name: string, status: PlannedStep['status'], reason: string | null = null, deps: string[] = []): PlannedStep => ({ name, deps, status, reason });
  const noData = s('raw', 'no_data', 'no rows for 2010-12-04');
  assert.equal(finalRunStatus([s('schema', 'succeeded'), noData, s('staging', 'skipped', 'upstream step raw had no data', ['raw'])], false), 'no_data');
  assert.equal(finalRunStatus([s('schema', 'succeeded'), s('staging', 'succeeded')], false), 'succeeded');
  // A failure or a check block elsewhere in the run wins: the run is failed.
  assert.equal(finalRunStatus([noData, s('other', 'failed', 'boom')], false), 'failed');
  assert.equal(finalRunStatus([noData, s('other', 'succeeded', 'check x failed'), s('after', 'skipped', 'blocked: check x', ['other'])], false), 'failed');
  assert.equal(finalRunStatus([noData, s('other', 'cancelled', 'cancelled by user')], false), 'cancelled');
  assert.equal(finalRunStatus([noData, s('other', 'running')], false), null);
});
