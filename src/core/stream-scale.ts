import { z } from 'zod';

/**
 * How a stream step scales on lag: between 1 and `maxReplicas` attempts (pods on
 * Kubernetes) run at once, each reading its share of the topics' partitions.
 */
export const streamScaleSchema = z.object({
  /** Attempts at most; never more than the topic has partitions. */
  maxReplicas: z.number().int().min(1).max(64),
  /** Records of lag one replica is expected to carry: more lag adds replicas. */
  lagPerReplica: z.number().int().min(1),
  /** How long the lag must stay low before replicas are taken away (default 60 s). */
  scaleDownAfterMs: z.number().int().min(0).max(86_400_000).default(60_000),
}).strict();

export type StreamScale = z.output<typeof streamScaleSchema>;
export type StreamScaleInput = z.input<typeof streamScaleSchema>;

/** Which partitions an attempt reads: those whose number modulo `count` is its `index`. */
export interface StreamShard {
  readonly index: number;
  readonly count: number;
}

export const ONE_SHARD: StreamShard = Object.freeze({ index: 0, count: 1 });

export const ownsPartition = (shard: StreamShard, partition: number): boolean => partition % shard.count === shard.index;

/** The replicas the lag asks for: one per `lagPerReplica` records, within 1 … min(maxReplicas, partitions). */
export function wantedReplicas(policy: StreamScale, lag: number, partitions: number): number {
  const cap = Math.max(1, Math.min(policy.maxReplicas, partitions));
  return Math.min(cap, Math.max(1, Math.ceil(lag / policy.lagPerReplica)));
}

export interface ScaleDecision {
  /** The replica count to move to, or null to stay. */
  readonly to: number | null;
  /** Since when the lag has asked for fewer replicas (null: it does not). */
  readonly lowSince: number | null;
}

/**
 * Scales out at once when the lag asks for more replicas, and in only once it has asked
 * for fewer for `scaleDownAfterMs` without a break, so a burst does not make it flap.
 */
export function decideScale(policy: StreamScale, now: { count: number; lag: number; partitions: number; at: number; lowSince: number | null }): ScaleDecision {
  const wanted = wantedReplicas(policy, now.lag, now.partitions);
  if (wanted > now.count) return { to: wanted, lowSince: null };
  if (wanted === now.count) return { to: null, lowSince: null };
  const lowSince = now.lowSince ?? now.at;
  return now.at - lowSince >= policy.scaleDownAfterMs ? { to: wanted, lowSince: null } : { to: null, lowSince };
}
