import { z } from 'zod';
import { boundMessage } from './errors.ts';
import { MAX_STACK_CHARS } from './failure.ts';

/**
 * Events that step attempts report (DESIGN.md §4, topic `sluice.events`). Every event
 * carries `attemptId` and a per-attempt `seq`, so applying one twice changes nothing.
 * `v` versions the schema; a consumer refuses versions it does not know.
 */
const base = {
  v: z.literal(1),
  runId: z.string().min(1),
  attemptId: z.string().min(1),
  step: z.string().min(1),
  seq: z.number().int().nonnegative(),
  ts: z.string(),
};

/**
 * Text a producer controls is cut on the way in, so neither the store, the API nor a live
 * view ever holds a multi-megabyte message, whatever an older or foreign worker sent.
 */
const message = z.string().transform((m) => boundMessage(m));
/** Log lines may carry more context than an error message, but still not a whole file. */
export const MAX_LOG_CHARS = 4000;
const logLine = z.string().transform((m) => boundMessage(m, MAX_LOG_CHARS));
const stack = z.string().transform((m) => boundMessage(m, MAX_STACK_CHARS));

const checkResult = z.object({
  asset: z.string(),
  check: z.string(),
  severity: z.enum(['warn', 'error']),
  passed: z.boolean(),
  message,
  value: z.number().nullable().optional(),
});
export type CheckResult = z.infer<typeof checkResult>;

/** A stream's position on one partition (see StreamOffset in the metadata store). */
export const streamPositionSchema = z.object({
  topic: z.string().min(1).max(300),
  partition: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  pendingEnd: z.number().int().nonnegative().nullable(),
});
export type StreamPosition = z.infer<typeof streamPositionSchema>;

/** What a stream step is doing: `backing_off` while it waits to reconnect or retry its sink. */
export const STREAM_STATES = ['starting', 'running', 'paused', 'backing_off', 'stopping'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

const streamCounter = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);

export const attemptEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('attempt.started'), attempt: z.number().int().positive(), workerId: z.string().optional(), pid: z.number().int().optional() }),
  z.object({ ...base, type: z.literal('heartbeat') }),
  z.object({
    ...base,
    type: z.literal('progress'),
    rows: z.number().nonnegative(),
    total: z.number().nonnegative().optional(),
    message: message.optional(),
  }),
  z.object({
    ...base,
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: logLine,
  }),
  z.object({
    ...base,
    type: z.literal('asset.materialized'),
    asset: z.string(),
    partition: z.string().nullable(),
    rows: z.number().nonnegative(),
    metadata: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({ ...base, type: z.literal('check.evaluated'), partition: z.string().nullable(), result: checkResult }),
  z.object({
    ...base,
    type: z.literal('metric'),
    name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
    help: z.string(),
    labels: z.record(z.string(), z.string()),
    value: z.number(),
  }),
  // Sent by a stream step before a batch is written (pendingEnd set) and after (pendingEnd
  // null): the control plane stores them with the events, and a restart starts from them.
  z.object({ ...base, type: z.literal('stream.offsets'), offsets: z.array(streamPositionSchema).min(1).max(1_000) }),
  z.object({
    ...base,
    type: z.literal('stream.status'),
    state: z.enum(STREAM_STATES),
    /** Per partition read: where the stream is, the partition's end, and the difference. */
    partitions: z.array(z.object({ topic: z.string().max(300), partition: z.number().int().nonnegative(), offset: z.number().int().nonnegative(), end: z.number().int().nonnegative() })).max(1_000),
    /** Totals since the attempt started: records_in, records_out, dead_letters, reconnects, resyncs, … */
    counters: z.record(streamCounter, z.number().nonnegative()).refine((c) => Object.keys(c).length <= 32, 'at most 32 counters'),
    message: message.optional(),
  }),
  z.object({
    ...base,
    type: z.literal('attempt.succeeded'),
    rowsWritten: z.number().nonnegative(),
    // Set when the step said its partition has no data (`throw noData(reason)`): the step
    // ends no_data. Optional, so events of older workers stay valid.
    noData: message.optional(),
  }),
  z.object({
    ...base,
    type: z.literal('attempt.failed'),
    // The optional fields came later: a v1 consumer that does not know them drops them, and
    // an older worker that does not send them still reports a valid failure.
    error: z.object({
      code: z.string(),
      message,
      retryable: z.boolean(),
      name: z.string().transform((m) => boundMessage(m, 200)).optional(),
      nonRetryableReason: message.optional(),
      stack: stack.optional(),
      frame: z.string().transform((m) => boundMessage(m)).optional(),
    }),
  }),
]);

export type AttemptEvent = z.infer<typeof attemptEventSchema>;
export type AttemptEventType = AttemptEvent['type'];

/** Distributes Omit over the union, so each variant keeps its own fields. */
export type AttemptEventBody = AttemptEvent extends infer E
  ? E extends AttemptEvent
    ? Omit<E, 'v' | 'runId' | 'attemptId' | 'step' | 'seq' | 'ts'>
    : never
  : never;

/** Validates an event from the bus; throws a ZodError naming the bad field. */
export const parseAttemptEvent = (raw: unknown): AttemptEvent => attemptEventSchema.parse(raw);
