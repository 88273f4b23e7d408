import { z } from 'zod';
import { streamPositionSchema } from './events.ts';
import { placementSchema } from './placement.ts';

/**
 * Commands on `sluice.control` (DESIGN.md §4), written only by the control plane. `start`
 * goes to the shared worker group (one worker takes it); `cancel`, `stop` and `ping` are
 * seen by every worker, which ignores what is not about it.
 */
export const launchRequestSchema = z.object({
  runId: z.string(),
  attemptId: z.string(),
  attempt: z.number().int().positive(),
  pipeline: z.string(),
  step: z.string(),
  params: z.record(z.string(), z.unknown()),
  partition: z.string().nullable(),
  timeoutMs: z.number().nullable(),
  version: z.string().max(100).nullable().optional(),
  placement: placementSchema.nullable().optional(),
  /** A stream step's committed positions when the attempt was launched; absent for other steps. */
  offsets: z.array(streamPositionSchema).max(1_000).optional(),
  /** A stream step scaled on lag: which share of the partitions this attempt reads (absent: all). */
  shard: z.object({ index: z.number().int().min(0).max(63), count: z.number().int().min(1).max(64) }).refine((s) => s.index < s.count, 'index must be below count').optional(),
});

export const controlCommandSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('start'), request: launchRequestSchema }),
  z.object({ v: z.literal(1), type: z.literal('cancel'), attemptId: z.string(), reason: z.string() }),
  z.object({ v: z.literal(1), type: z.literal('stop'), runId: z.string(), reason: z.string() }),
  z.object({ v: z.literal(1), type: z.literal('ping'), nonce: z.string(), workerId: z.string().nullable(), sentAt: z.string() }),
]);

export type ControlCommand = z.infer<typeof controlCommandSchema>;

/** A worker's answer to `ping`, published on `sluice.events` keyed by the nonce. */
export const pongSchema = z.object({
  v: z.literal(1),
  type: z.literal('pong'),
  nonce: z.string(),
  workerId: z.string(),
  running: z.array(z.string()),
  ts: z.string(),
});
export type Pong = z.infer<typeof pongSchema>;

export const parseControlCommand = (raw: unknown): ControlCommand => controlCommandSchema.parse(raw);
