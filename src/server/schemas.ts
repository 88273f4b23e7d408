import { z } from 'zod';
import { ATTEMPT_STATUSES, RUN_STATUSES, STEP_STATUSES } from '../core/states.ts';

export const runSchema = z.object({
  id: z.string(),
  pipeline: z.string(),
  partition: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  status: z.enum(RUN_STATUSES),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  backfillId: z.string().nullable(),
  parentRunId: z.string().nullable().describe('The run this one retried (POST /runs/{id}/retry); null for a run started afresh'),
  rootRunId: z.string().nullable().describe('The first run of its chain of retries; null for a run started afresh'),
});

export const stepSchema = z.object({
  runId: z.string(),
  step: z.string(),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  rowsWritten: z.number(),
  reason: z.string().nullable(),
});

export const attemptSchema = z.object({
  id: z.string(),
  runId: z.string(),
  step: z.string(),
  attempt: z.number().int(),
  status: z.enum(ATTEMPT_STATUSES),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  rowsWritten: z.number(),
  failure: z.object({
    code: z.string(),
    name: z.string().describe('Class of what was thrown in the step (TypeError), else of Sluice\'s own error'),
    message: z.string(),
    retryable: z.boolean(),
    nonRetryableReason: z.string().nullable(),
    stack: z.string().nullable().describe('Stack of the thrown error and its causes, at most a few KB'),
    frame: z.string().nullable().describe('First frame in pipeline code: path:line:column'),
    notRetried: z.string().nullable().describe('Why no retry followed, when the step failed for good'),
  }).nullable().describe('Why the attempt failed; null unless it did'),
});

export const runDetailSchema = z.object({ run: runSchema, steps: z.array(stepSchema), attempts: z.array(attemptSchema) });

export const materializationSchema = z.object({
  runId: z.string(), step: z.string(), asset: z.string(), partition: z.string().nullable(), rows: z.number(),
  metadata: z.record(z.string(), z.unknown()), ts: z.string(),
});

export const checkResultSchema = z.object({
  runId: z.string(), step: z.string(), asset: z.string(), check: z.string(), partition: z.string().nullable(),
  severity: z.enum(['warn', 'error']), passed: z.boolean(), message: z.string(), value: z.number().nullable(), ts: z.string(),
});

export const eventSchema = z.object({
  id: z.number().int(),
  runId: z.string(),
  type: z.string(),
  step: z.string().nullable(),
  attemptId: z.string().nullable(),
  ts: z.string(),
  payload: z.record(z.string(), z.unknown()),
});

/** Opaque keyset cursor for run listings. */
export const encodeCursor = (r: { createdAt: string; id: string }): string =>
  Buffer.from(JSON.stringify([r.createdAt, r.id])).toString('base64url');

export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) return { createdAt, id };
  } catch {
    // fall through
  }
  return null;
}

export const paramsRecord = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

/** What a partition key looks like; whether it is one of a pipeline's partitions, the pipeline decides. */
export const partitionKey = z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be a partition key (YYYY-MM-DD or YYYY-MM)');

/** The earliest instant the metadata store holds (PostgreSQL has no year 0). */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');

/**
 * An RFC 3339 instant, handed on in UTC: the store need not understand every offset the
 * format allows (PostgreSQL refuses beyond ±15:59), and instants before year 1 mean the same
 * as year 1 to a filter on creation times.
 */
export const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(Math.max(Date.parse(s), EARLIEST)).toISOString());
