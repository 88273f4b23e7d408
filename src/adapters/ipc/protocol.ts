import { z } from 'zod';
import { SluiceError, UnavailableError, errorCodeOf } from '../../core/errors.ts';

/**
 * The wire format between a forked worker (child) and the control plane (parent) over
 * Node's IPC channel. Every message carries `ch` so the bridge shares the channel with
 * other traffic (the worker pool's readiness message, a test's own messages) and ignores
 * what is not its own; both ends validate what they receive with these schemas.
 */
export const IPC_CHANNEL = 'sluice.ipc';

const envelope = { ch: z.literal(IPC_CHANNEL), v: z.literal(1) };
const id = z.number().int().nonnegative();
const params = z.record(z.string(), z.unknown()).optional();

/** An error as it crosses the channel: enough to rebuild retry classification. */
export const wireErrorSchema = z.object({
  name: z.string(), message: z.string(), code: z.string(), retryable: z.boolean(), nonRetryableReason: z.string().optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

export const requestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('bus.publish'), topic: z.string().min(1), key: z.string(), value: z.unknown() }),
  z.object({ op: z.literal('bus.subscribe'), sub: id, topic: z.string().min(1), group: z.string().min(1), fromBeginning: z.boolean().optional() }),
  z.object({ op: z.literal('bus.unsubscribe'), sub: id }),
  z.object({ op: z.literal('dt.produce'), topic: z.string().min(1), records: z.array(z.object({ key: z.string(), value: z.union([z.string(), z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes')]) })).max(100_000) }),
  z.object({ op: z.literal('dt.partitions'), topic: z.string().min(1) }),
  z.object({
    op: z.literal('dt.reader'), reader: id, topic: z.string().min(1), otherwise: z.enum(['earliest', 'latest']), buffer: z.number().int().positive(),
    from: z.array(z.object({ partition: z.number().int().nonnegative(), offset: z.number().int().nonnegative() })),
    partitions: z.array(z.number().int().nonnegative()).max(10_000).optional(),
  }),
  z.object({ op: z.literal('dt.next'), reader: id, max: z.number().int().positive().max(100_000), waitMs: z.number().int().nonnegative().max(60_000) }),
  z.object({ op: z.literal('dt.close'), reader: id }),
  z.object({ op: z.literal('wh.command'), sql: z.string(), params }),
  z.object({ op: z.literal('wh.query'), sql: z.string(), params }),
  z.object({ op: z.literal('wh.explain'), sql: z.string(), params }),
  z.object({ op: z.literal('wh.insertRows'), table: z.string().min(1), rows: z.array(z.record(z.string(), z.unknown())) }),
  // A stream's batch: bounded by the connector (rows and bytes), sent whole.
  z.object({ op: z.literal('wh.insertBatch'), table: z.string().min(1), columns: z.array(z.string()), body: z.string().max(256 * 2 ** 20), dedupToken: z.string().max(1_000).optional() }),
  // The request id doubles as the stream id of the chunks that follow.
  z.object({ op: z.literal('wh.insertTsv'), table: z.string().min(1), columns: z.array(z.string()), window: z.number().int().positive() }),
]);
export type IpcRequest = z.infer<typeof requestSchema>;

/** What the child sends. */
export const childMessageSchema = z.discriminatedUnion('t', [
  z.object({ ...envelope, t: z.literal('req'), id, req: requestSchema }),
  z.object({ ...envelope, t: z.literal('ack'), delivery: id }),
  z.object({ ...envelope, t: z.literal('nack'), delivery: id, error: wireErrorSchema }),
  z.object({ ...envelope, t: z.literal('chunk'), stream: id, data: z.string() }),
  z.object({ ...envelope, t: z.literal('end'), stream: id }),
  z.object({ ...envelope, t: z.literal('abort'), stream: id, error: wireErrorSchema }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

/** What the parent sends. */
export const parentMessageSchema = z.discriminatedUnion('t', [
  // A response failed when it carries `error`.
  z.object({ ...envelope, t: z.literal('res'), id, result: z.unknown(), error: wireErrorSchema.optional() }),
  z.object({
    ...envelope,
    t: z.literal('deliver'),
    delivery: id,
    sub: id,
    message: z.object({ topic: z.string(), key: z.string(), value: z.unknown(), offset: z.string() }),
  }),
  z.object({ ...envelope, t: z.literal('credit'), stream: id, n: z.number().int().positive() }),
]);
export type ParentMessage = z.infer<typeof parentMessageSchema>;

/** Distributes Omit over a union, so each variant keeps its own fields. */
type Body<M> = M extends unknown ? Omit<M, 'ch' | 'v'> : never;
export type ChildBody = Body<ChildMessage>;
export type ParentBody = Body<ParentMessage>;

/** True when a raw IPC message belongs to the bridge (whether or not it is valid). */
export function isBridgeMessage(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { ch?: unknown }).ch === IPC_CHANNEL;
}

/**
 * Anything thrown, as it crosses the channel. A SluiceError keeps its code and retryable
 * flag; anything else is marked retryable, as the step boundary (StepError) treats a plain
 * error, so a step fails the same way on either side of the bridge.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof SluiceError) {
    const why = err.nonRetryableReason === null ? {} : { nonRetryableReason: err.nonRetryableReason };
    return { name: err.name, message: err.message, code: err.code, retryable: err.retryable, ...why };
  }
  const e = err as { name?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: err instanceof Error ? err.message : String(err),
    code: 'internal',
    retryable: true,
  };
}

/** Rebuilds an error from the wire; `name` is kept for messages and logs. */
export function fromWireError(w: WireError): SluiceError {
  const err = new SluiceError(errorCodeOf(w.code), w.message, { retryable: w.retryable, nonRetryableReason: w.nonRetryableReason });
  err.name = w.name;
  return err;
}

/** The minimal slice of a Node IPC endpoint (`process` in a forked child, a `ChildProcess` in the parent). */
export interface IpcEndpoint {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}

/** Sends one message; resolves once it is handed to the OS, rejects when the channel is gone. */
export function sendOn(endpoint: IpcEndpoint, message: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!endpoint.send || endpoint.connected === false) {
      reject(disconnected());
      return;
    }
    try {
      endpoint.send(message, (err) => (err ? reject(disconnected(err)) : resolve()));
    } catch (err) {
      reject(disconnected(err));
    }
  });
}

export function disconnected(cause?: unknown): SluiceError {
  return new UnavailableError('the IPC channel between the worker and the control plane is closed', { cause });
}
