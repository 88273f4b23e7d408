import type { StreamPosition } from '../core/events.ts';
import type { Placement } from '../core/placement.ts';
import type { StreamShard } from '../core/stream-scale.ts';

/** What a launcher needs to start one step attempt somewhere. */
export interface LaunchRequest {
  readonly runId: string;
  readonly attemptId: string;
  readonly attempt: number;
  readonly pipeline: string;
  readonly step: string;
  readonly params: Record<string, unknown>;
  readonly partition: string | null;
  readonly timeoutMs: number | null;
  /**
   * The version of the pipeline's code the run started with (PipelineRegistry.versionOf),
   * so a worker that has reloaded since still runs that code; absent or null: the current.
   */
  readonly version?: string | null;
  /** Where the step asked to run (Kubernetes); launchers that run attempts themselves ignore it. */
  readonly placement?: Placement | null;
  /** A stream step's committed positions when it was launched (see StreamHandle.offsets). */
  readonly offsets?: StreamPosition[];
  /** A stream step scaled on lag: the share of partitions this attempt reads (absent: all). */
  readonly shard?: StreamShard;
}

/**
 * Starts step attempts; results come back as events on the bus, never as return values,
 * so every launcher (in-process, subprocess pool, Kubernetes Job) looks the same to the
 * coordinator.
 */
export interface Launcher {
  readonly kind: string;
  /**
   * Whether `kill` can end an attempt by force (its process, its pod). Without it, an
   * attempt that ignores its AbortSignal or hangs is fenced off but keeps running.
   */
  readonly canKill: boolean;
  launch(request: LaunchRequest): Promise<void>;
  /** Asks the attempt to stop (its AbortSignal fires); resolves once it has been told. */
  terminate(attemptId: string, reason: string): Promise<void>;
  /**
   * Ends the attempt by force; resolves once what ran it is gone (an unknown attempt is
   * not an error). When `canKill` is false it throws a NotSupportedError that says what
   * to run instead.
   */
  kill(attemptId: string): Promise<void>;
  close(): Promise<void>;
}
