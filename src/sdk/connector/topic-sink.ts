import { ValidationError } from '../../core/errors.ts';
import type { PartitionWindow } from '../../core/partitions.ts';
import { RecordEncoder } from './record-encoder.ts';
import { RouteRun, type ConnectorRoute, type SinkContext, type SinkMode, type SinkSettings } from './route-run.ts';

export interface TopicSinkOptions<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  /** Where each topic goes: one stream (one set of offsets) may move several topics. */
  readonly routes: readonly ConnectorRoute<P, W>[];
  /** A batch is written when a partition has this many records waiting (default 10,000)… */
  readonly batchRows?: number;
  /** …or when its oldest waiting record is this old (default 1,000 ms). */
  readonly batchMs?: number;
  /** Where a partition the stream has never read starts (default `earliest`: nothing already there is skipped). */
  readonly firstStart?: 'earliest' | 'latest';
  /** Whether the sink reports the rows it wrote as the step's progress (default true; off for a step that reports its own). */
  readonly progress?: boolean;
}

const STATUS_EVERY_MS = 1_000;
const REPORT_EVERY_MS = 500;

/** The options checked, defaults filled; throws a TypeError naming what is wrong (`who` says whose options). */
export function sinkSettings(who: string, options: Pick<TopicSinkOptions, 'batchRows' | 'batchMs' | 'firstStart'> & { readonly routes: readonly { readonly topic: string }[] }): SinkSettings {
  const batchRows = options.batchRows ?? 10_000;
  const batchMs = options.batchMs ?? 1_000;
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 1_000_000) throw new TypeError(`${who}: batchRows must be an integer from 1 to 1,000,000`);
  if (!(batchMs >= 10 && batchMs <= 600_000)) throw new TypeError(`${who}: batchMs must be from 10 to 600,000`);
  if (options.routes.length === 0) throw new TypeError(`${who}: give at least one route (topic → table)`);
  const topics = options.routes.map((r) => r.topic);
  if (new Set(topics).size !== topics.length) throw new TypeError(`${who}: a topic may have one route only`);
  return { batchRows, batchMs, firstStart: options.firstStart ?? 'earliest' };
}

/** What a sink has done in this attempt, summed over its routes. */
export type SinkCounters = Record<'records_in' | 'records_out' | 'skipped' | 'dead_letters' | 'batches' | 'sink_retries', number>;

/** A stream step's topic → table writer; see `topicSink`. */
export class TopicSink<P, W extends PartitionWindow | null> {
  readonly routes: readonly RouteRun<P, W>[];
  readonly #ctx: SinkContext;
  readonly #progress: boolean;
  #reported = { state: '', at: 0 };

  private constructor(ctx: SinkContext, routes: readonly RouteRun<P, W>[], progress: boolean) {
    this.#ctx = ctx;
    this.routes = routes;
    this.#progress = progress;
  }

  static async open<P, W extends PartitionWindow | null>(ctx: SinkContext, options: TopicSinkOptions<P, W>): Promise<TopicSink<P, W>> {
    const stream = ctx.stream;
    if (!stream) throw new ValidationError(`a topic sink runs in a stream step (step ${ctx.step} is not one: declare it with stream: true)`, 'stream');
    const settings = sinkSettings(`topic sink of ${ctx.step}`, options);
    const routes = await Promise.all(options.routes.map(async (r) => new RouteRun(ctx, stream, settings, r, await RecordEncoder.forTable(ctx.warehouse, r.table))));
    return new TopicSink(ctx, routes, options.progress ?? true);
  }

  get counters(): SinkCounters {
    const out: SinkCounters = { records_in: 0, records_out: 0, skipped: 0, dead_letters: 0, batches: 0, sink_retries: 0 };
    for (const r of this.routes) for (const k of Object.keys(out) as (keyof SinkCounters)[]) out[k] += r.counters[k];
    return out;
  }

  /** Reads and writes until the step is stopped, then what its run's producers publish as they stop. */
  follow(): Promise<SinkCounters> {
    return this.#run('follow');
  }

  /** Writes what the topics hold now, up to the partitions' ends at the call, then returns (sooner if stopped). */
  drain(): Promise<SinkCounters> {
    return this.#run('drain');
  }

  /**
   * Reports the stream's state, partitions and counters (`ctx.stream.status`), with
   * `extra` counters of the step's own (a loader's requests, say) beside the sink's.
   */
  async report(state: 'running' | 'stopping', extra: Record<string, number> = {}, message?: string): Promise<void> {
    // Loaders report after every page: the partitions' ends are asked for at most as often
    // as the executor sends a status on (a change of state always goes out).
    const now = Date.now();
    if (state === this.#reported.state && now - this.#reported.at < REPORT_EVERY_MS) return;
    this.#reported = { state, at: now };
    const parts = (await Promise.all(this.routes.map((r) => r.partitions()))).flat();
    const counters = { ...extra, ...this.counters };
    this.#ctx.stream?.status({ state: this.routes.some((r) => r.backingOff) ? 'backing_off' : state, partitions: parts, counters, message });
    if (this.#progress) this.#ctx.progress(counters.records_out, { message: `${counters.records_out} rows written, ${counters.dead_letters} dead letters` });
  }

  async #run(mode: SinkMode): Promise<SinkCounters> {
    const timer = setInterval(() => void this.report('running').catch(() => undefined), STATUS_EVERY_MS);
    try {
      await Promise.all(this.routes.map((r) => r.run(mode)));
    } finally {
      clearInterval(timer);
    }
    return this.counters;
  }
}

/**
 * Opens a topic → warehouse writer inside a stream step: the exactly-once machinery of
 * `connector()` for a step that does more than move a topic. `drain()` writes what is in
 * the topics now and returns; `follow()` runs until the step is stopped. Offsets are the
 * step's stream offsets, so a restarted attempt continues from the last committed batch.
 *
 * @example
 * const load = myPipeline.step({
 *   name: 'load', stream: true,
 *   async run(ctx) {
 *     const sink = await topicSink(ctx, { routes: [{ topic: 'sluice.data.klines', table: 'market.klines', where: (r) => r.source === 'history' }] });
 *     await sink.drain(); // what a killed attempt published and did not write yet
 *     await ctx.topics.produce('sluice.data.klines', records);
 *     const { records_out } = await sink.drain();
 *   },
 * });
 */
export function topicSink<P, W extends PartitionWindow | null>(ctx: SinkContext, options: TopicSinkOptions<P, W>): Promise<TopicSink<P, W>> {
  return TopicSink.open(ctx, options);
}
