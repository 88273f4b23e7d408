import { describeError, SluiceError, ValidationError } from '../../core/errors.ts';
import type { StreamPosition } from '../../core/events.ts';
import type { PartitionWindow } from '../../core/partitions.ts';
import type { Placement } from '../../core/placement.ts';
import type { DataRecord, TopicReader } from '../../ports/data-topics.ts';
import type { AssetDef } from '../asset.ts';
import type { StepContext, StreamHandle } from '../context.ts';
import { sleep } from '../sleep.ts';
import { step, type StepDef } from '../step.ts';
import { FieldError } from './column-codec.ts';
import { RecordEncoder } from './record-encoder.ts';

export interface ConnectorOptions<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  /** The step's name; the stream is `<pipeline>.<name>`, its dead letters `sluice.dlq.<pipeline>.<name>`. */
  name: string;
  description?: string;
  /** Where each topic goes: one stream (one set of offsets, one worker slot) may move several topics. */
  routes: readonly ConnectorRoute<P, W>[];
  /** A batch is written when a partition has this many records waiting (default 10,000)… */
  batchRows?: number;
  /** …or when its oldest waiting record is this old (default 1,000 ms). */
  batchMs?: number;
  /** Where a partition the stream has never read starts (default `earliest`: nothing already there is skipped). */
  firstStart?: 'earliest' | 'latest';
  deps?: readonly (string | StepDef<P, W>)[];
  placement?: Placement;
}

export interface ConnectorRoute<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  /** The data topic to read, e.g. `sluice.data.klines`. */
  readonly topic: string;
  /** `database.table`; its columns without a DEFAULT are what each record must supply. */
  readonly table: string;
  /** Renames or computes fields before the record is checked against the table. */
  readonly map?: (record: Record<string, unknown>) => Record<string, unknown>;
  /** The table as an asset: materialized with the rows this attempt wrote when the stream stops. */
  readonly asset?: AssetDef<P, W>;
}

const MAX_LOGGED_DEAD_LETTERS = 20;
const STATUS_EVERY_MS = 1_000;
const MAX_SINK_BACKOFF_MS = 30_000;
/** After a stop, how long the connector keeps reading what arrives (within the executor's STREAM_STOP_MS). */
const DRAIN_MS = 2_000;
const DRAIN_QUIET_MS = 500;

interface Pending {
  /** Offset of the first record waiting (the batch's start). */
  from: number;
  lines: string[];
  dead: { record: DataRecord; reason: string }[];
  /** When its first record arrived. */
  since: number;
  /** Set while a crashed attempt's batch is replayed: the batch ends exactly here. */
  until: number | null;
}

/**
 * A stream step that moves a data topic into a warehouse table, exactly once: records are
 * batched per partition, each batch is announced (its offset range saved as pending), then
 * written in one INSERT whose deduplication token is the stream, topic, partition and
 * range, and only then committed. A restart replays a pending batch with the same range and
 * token, so a kill at any point neither loses nor duplicates a row. A record that is not
 * JSON or does not fit the table goes to the dead-letter topic with the reason, its source
 * offset and its raw bytes; the stream goes on. While the warehouse is slow or down, it
 * stops reading (the reader's buffer is the bound) and retries the batch with backoff.
 *
 * @example
 * const connect = connector({
 *   name: 'connect', deps: [schema],
 *   routes: [{ topic: 'sluice.data.klines', table: 'market.klines' }, { topic: 'sluice.data.agg-trades', table: 'market.agg_trades' }],
 * });
 */
export function connector<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null>(options: ConnectorOptions<P, W>): StepDef<P, W> {
  const batchRows = options.batchRows ?? 10_000;
  const batchMs = options.batchMs ?? 1_000;
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 1_000_000) throw new TypeError(`connector ${options.name}: batchRows must be an integer from 1 to 1,000,000`);
  if (!(batchMs >= 10 && batchMs <= 600_000)) throw new TypeError(`connector ${options.name}: batchMs must be from 10 to 600,000`);
  if (options.routes.length === 0) throw new TypeError(`connector ${options.name}: give at least one route (topic → table)`);
  const topics = options.routes.map((r) => r.topic);
  if (new Set(topics).size !== topics.length) throw new TypeError(`connector ${options.name}: a topic may have one route only`);
  return step<P, W>({
    name: options.name,
    description: options.description ?? options.routes.map((r) => `${r.topic} → ${r.table}`).join(', '),
    deps: options.deps,
    assets: options.routes.flatMap((r) => (r.asset ? [r.asset] : [])),
    placement: options.placement,
    stream: true,
    run: async (ctx) => {
      const stream = ctx.stream;
      if (!stream) throw new ValidationError(`connector ${options.name} must run as a stream step`, 'stream');
      const settings = { ...options, batchRows, batchMs };
      const routes = await Promise.all(options.routes.map(async (r) => new RouteRun(ctx as StepContext<P, W>, stream, settings, r, await RecordEncoder.forTable(ctx.warehouse, r.table))));
      const report = async (state: 'running' | 'stopping') => {
        const parts = (await Promise.all(routes.map((r) => r.partitions()))).flat();
        const counters: Record<string, number> = {};
        for (const r of routes) for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
        stream.status({ state: routes.some((r) => r.backingOff) ? 'backing_off' : state, partitions: parts, counters });
        ctx.progress(counters.records_out ?? 0, { message: `${counters.records_out} rows written, ${counters.dead_letters} dead letters` });
      };
      await report('running');
      const timer = setInterval(() => void report('running').catch(() => undefined), STATUS_EVERY_MS);
      try {
        await Promise.all(routes.map((r) => r.run()));
      } finally {
        clearInterval(timer);
      }
      await report('stopping');
      for (const r of routes) {
        if (!r.route.asset) continue;
        ctx.materialize(r.route.asset.name as never, { rows: r.counters.records_out, metadata: { dead_letters: r.counters.dead_letters, batches: r.counters.batches, table: r.route.table } });
      }
    },
  });
}

/** One topic → table route of a connector: its reader, its per-partition batches, its commits. */
class RouteRun<P, W extends PartitionWindow | null> {
  readonly route: ConnectorRoute<P, W>;
  readonly counters = { records_in: 0, records_out: 0, dead_letters: 0, batches: 0, sink_retries: 0 };
  backingOff = false;
  readonly #ctx: StepContext<P, W>;
  readonly #stream: StreamHandle;
  readonly #o: ConnectorOptions<P, W> & { batchRows: number; batchMs: number };
  readonly #encoder: RecordEncoder;
  readonly #deadLetters: string;
  /** Next offset to commit per partition: everything before it is in the table (or the dead letters). */
  readonly #committed: Map<number, number>;
  readonly #buffers = new Map<number, Pending>();
  #writing: Promise<void> | null = null;
  #logged = 0;

  constructor(ctx: StepContext<P, W>, stream: StreamHandle, o: ConnectorOptions<P, W> & { batchRows: number; batchMs: number }, route: ConnectorRoute<P, W>, encoder: RecordEncoder) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.#o = o;
    this.route = route;
    this.#encoder = encoder;
    this.#deadLetters = `sluice.dlq.${stream.name}`;
    const mine = stream.offsets.filter((p) => p.topic === route.topic);
    this.#committed = new Map(mine.map((p) => [p.partition, p.offset]));
    // A batch a crashed attempt announced is written again first, with exactly its range.
    for (const p of mine) if (p.pendingEnd !== null && p.pendingEnd > p.offset) this.#buffers.set(p.partition, { from: p.offset, lines: [], dead: [], since: Date.now(), until: p.pendingEnd });
  }

  /** Where the route stands per partition: committed offset against the partition's end. */
  async partitions(): Promise<{ topic: string; partition: number; offset: number; end: number }[]> {
    const ends = await this.#ctx.topics.partitions(this.route.topic).catch(() => []);
    return ends.map((r) => ({ topic: this.route.topic, partition: r.partition, offset: Math.max(this.#committed.get(r.partition) ?? r.start, r.start), end: r.end }));
  }

  async run(): Promise<void> {
    const ctx = this.#ctx;
    const reader: TopicReader = await ctx.topics.reader(this.route.topic, {
      from: [...this.#committed].map(([partition, offset]) => ({ partition, offset })), otherwise: this.#o.firstStart ?? 'earliest', buffer: this.#o.batchRows,
    });
    try {
      while (!ctx.signal.aborted) {
        const now = Date.now();
        let wait = 200;
        for (const b of this.#buffers.values()) if (b.until === null) wait = Math.min(wait, Math.max(0, b.since + this.#o.batchMs - now));
        await this.#accept(await reader.next(this.#o.batchRows, wait));
        for (const [partition, b] of [...this.#buffers]) {
          if (b.until === null && Date.now() - b.since >= this.#o.batchMs) await this.#flush(partition);
        }
      }
      // Stopped: what producers of the same run publish as they stop (a feed's last book) is
      // still read, until the topic has been quiet for a moment or the drain time is up.
      const stoppedAt = Date.now();
      while (Date.now() - stoppedAt < DRAIN_MS) {
        const records = await reader.next(this.#o.batchRows, DRAIN_QUIET_MS);
        if (records.length === 0) break;
        await this.#accept(records);
      }
      // A replayed batch not read back in full before the stop stays pending: the next start replays it.
      for (const [partition, b] of [...this.#buffers]) if (b.until === null) await this.#flush(partition);
      await this.#settled();
    } finally {
      await this.#writing?.catch(() => undefined);
      await reader.close();
    }
  }

  /** Adds records to their partitions' batches, handing over each batch that is full. */
  async #accept(records: readonly DataRecord[]): Promise<void> {
    for (const r of records) {
      // A gap in offsets (retention) closes the partition's batch first: a batch is a contiguous range.
      if (!this.#take(r)) {
        await this.#flush(r.partition);
        this.#take(r);
      }
      if (this.#full(this.#buffers.get(r.partition) as Pending)) await this.#flush(r.partition);
      else if (this.#waiting() > 2 * this.#o.batchRows) await this.#flush(this.#largest());
    }
  }

  /** Records held over every partition: with many partitions, the bound is this, not one batch each. */
  #waiting(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.lines.length + b.dead.length;
    return n;
  }

  #largest(): number {
    let best = -1;
    let size = -1;
    for (const [partition, b] of this.#buffers) {
      const n = b.lines.length + b.dead.length;
      if (b.until === null && n > size) [best, size] = [partition, n];
    }
    return best;
  }

  #full(b: Pending): boolean {
    const size = b.lines.length + b.dead.length;
    return b.until !== null ? b.from + size >= b.until : size >= this.#o.batchRows;
  }

  #take(r: DataRecord): boolean {
    let batch = this.#buffers.get(r.partition);
    if (!batch) {
      batch = { from: r.offset, lines: [], dead: [], since: Date.now(), until: null };
      this.#buffers.set(r.partition, batch);
    }
    if (r.offset !== batch.from + batch.lines.length + batch.dead.length) return false;
    this.counters.records_in += 1;
    try {
      batch.lines.push(this.#encoder.encode(r.value, this.route.map));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      batch.dead.push({ record: r, reason: err.message });
      if (this.#logged < MAX_LOGGED_DEAD_LETTERS || this.counters.dead_letters % 1000 === 0) {
        this.#logged += 1;
        this.#ctx.log.warn(`dead letter ${r.topic}/${r.partition}@${r.offset}: ${err.message}`);
      }
    }
    return true;
  }

  /**
   * Hands the partition's batch to the writer. One batch is written while the next is read
   * and checked (the insert runs in the engine, the checks here), never more than one: a
   * slow warehouse holds the reading at one batch ahead.
   */
  async #flush(partition: number): Promise<void> {
    const batch = this.#buffers.get(partition);
    if (!batch) return;
    this.#buffers.delete(partition);
    const to = batch.from + batch.lines.length + batch.dead.length;
    if (to === batch.from) return;
    await this.#settled();
    const writing = this.#write(partition, batch, to);
    // Awaited by the next flush (or the end); until then a failure must not go unhandled.
    writing.catch(() => undefined);
    this.#writing = writing;
  }

  /** The batch being written, done (its failure thrown here). */
  async #settled(): Promise<void> {
    const writing = this.#writing;
    this.#writing = null;
    await writing;
  }

  async #write(partition: number, batch: Pending, to: number): Promise<void> {
    const { topic, table } = this.route;
    const ctx = this.#ctx;
    const range: StreamPosition = { topic, partition, offset: batch.from, pendingEnd: to };
    await this.#stream.commit([range]);
    if (batch.dead.length > 0) {
      await ctx.topics.produce(this.#deadLetters, batch.dead.map(({ record, reason }) => ({
        key: record.key,
        value: JSON.stringify({
          connector: this.#stream.name, topic: record.topic, partition: record.partition, offset: record.offset, key: record.key,
          reason, raw: Buffer.from(record.value).toString('base64'), timestamp: record.timestamp,
        }),
      })));
    }
    if (batch.lines.length > 0) {
      const token = `${this.#stream.name}/${topic}/${partition}/${batch.from}-${to}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await ctx.warehouse.insertBatch(table, this.#encoder.columns, batch.lines.join(''), { dedupToken: token });
          break;
        } catch (err) {
          // A refusal that will not change (a dropped column) fails the attempt; the step restarts from its commit.
          if (err instanceof SluiceError && !err.retryable) throw err;
          // Stopping does not abandon an announced batch for long: the next start replays it.
          if (ctx.signal.aborted && attempt >= 3) throw err;
          this.counters.sink_retries += 1;
          this.backingOff = true;
          const wait = Math.min(MAX_SINK_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 7));
          ctx.log.warn(`insert into ${table} failed (${describeError(err)}); retrying batch ${token} in ${wait} ms`);
          await sleep(wait);
        }
      }
      this.backingOff = false;
    }
    await this.#stream.commit([{ topic, partition, offset: to, pendingEnd: null }]);
    this.#committed.set(partition, to);
    this.counters.records_out += batch.lines.length;
    this.counters.dead_letters += batch.dead.length;
    this.counters.batches += 1;
  }
}
