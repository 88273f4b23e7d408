import { describeError, SluiceError } from '../../core/errors.ts';
import type { StreamPosition } from '../../core/events.ts';
import type { PartitionWindow } from '../../core/partitions.ts';
import { ownsPartition } from '../../core/stream-scale.ts';
import type { DataRecord, PartitionRange, TopicReader } from '../../ports/data-topics.ts';
import type { AssetDef } from '../asset.ts';
import type { StepContext, StreamHandle } from '../context.ts';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { sleep } from '../sleep.ts';
import { FieldError } from './column-codec.ts';
import type { RecordEncoder } from './record-encoder.ts';

export interface ConnectorRoute<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  /** The data topic to read, e.g. `sluice.data.klines`. */
  readonly topic: string;
  /** `database.table`; its columns without a DEFAULT are what each record must supply. */
  readonly table: string;
  /**
   * Which records of the topic are this route's (default: all). The others are read past and
   * committed, never written nor dead-lettered: two sinks of one topic, each with its own share.
   */
  readonly where?: (record: Record<string, unknown>) => boolean;
  /** Renames or computes fields before the record is checked against the table. */
  readonly map?: (record: Record<string, unknown>) => Record<string, unknown>;
  /** The table as an asset: materialized with the rows this attempt wrote when the stream stops. */
  readonly asset?: AssetDef<P, W>;
}

/** What a sink uses of its step's context. */
export type SinkContext = Pick<StepContext<unknown, PartitionWindow | null>, 'step' | 'stream' | 'topics' | 'warehouse' | 'log' | 'signal' | 'progress'>;

/** How a sink batches, and where it starts a partition it has never read. */
export interface SinkSettings {
  readonly batchRows: number;
  readonly batchMs: number;
  readonly firstStart: 'earliest' | 'latest';
}

/** `follow`: until the step is stopped; `drain`: until the partitions' ends seen at the start. */
export type SinkMode = 'follow' | 'drain';

/** Records checked between two turns of the event loop while a batch is being written. */
const YIELD_EVERY = 1_000;
const MAX_LOGGED_DEAD_LETTERS = 20;
const MAX_SINK_BACKOFF_MS = 30_000;
/** After a stop, how long a following sink keeps reading what arrives (within the executor's STREAM_STOP_MS). */
const DRAIN_MS = 2_000;
const DRAIN_QUIET_MS = 500;

interface Pending {
  /** Offset of the first record waiting (the batch's start). */
  from: number;
  lines: string[];
  dead: { record: DataRecord; reason: string }[];
  /** Records of the range that are not this route's (`where`). */
  skipped: number;
  /** The log's timestamp of the batch's first record: part of its token, see #write. */
  firstTimestamp: number;
  /** When its first record arrived. */
  since: number;
  /** Set while a crashed attempt's batch is replayed: the batch ends exactly here. */
  until: number | null;
}

const sizeOf = (b: Pending) => b.lines.length + b.dead.length + b.skipped;

/**
 * One topic → table route of a sink: its reader, its per-partition batches, its commits.
 * Records are batched per partition, each batch announced (its offset range saved as
 * pending), written in one INSERT whose deduplication token names the stream, topic,
 * partition, range and first record, and only then committed.
 */
export class RouteRun<P, W extends PartitionWindow | null> {
  readonly route: ConnectorRoute<P, W>;
  readonly counters = { records_in: 0, records_out: 0, skipped: 0, dead_letters: 0, batches: 0, sink_retries: 0 };
  backingOff = false;
  readonly #ctx: SinkContext;
  readonly #stream: StreamHandle;
  readonly #o: SinkSettings;
  readonly #encoder: RecordEncoder;
  readonly #deadLetters: string;
  /** Next offset to commit per partition: everything before it is in the table (or the dead letters). */
  readonly #committed: Map<number, number>;
  readonly #buffers = new Map<number, Pending>();
  /** Next offset to read per partition, in the current run. */
  readonly #position = new Map<number, number>();
  #writing: Promise<void> | null = null;
  #logged = 0;

  constructor(ctx: SinkContext, stream: StreamHandle, o: SinkSettings, route: ConnectorRoute<P, W>, encoder: RecordEncoder) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.#o = o;
    this.route = route;
    this.#encoder = encoder;
    this.#deadLetters = `sluice.dlq.${stream.name}`;
    // A replica (ctx.stream.shard) keeps to its share of the partitions, pending batches included.
    const mine = stream.offsets.filter((p) => p.topic === route.topic && ownsPartition(stream.shard, p.partition));
    this.#committed = new Map(mine.map((p) => [p.partition, p.offset]));
    // A batch a crashed attempt announced is written again first, with exactly its range.
    for (const p of mine) if (p.pendingEnd !== null && p.pendingEnd > p.offset) this.#buffers.set(p.partition, this.#batch(p.offset, p.pendingEnd));
  }

  /** Where the route stands per partition: committed offset against the partition's end. */
  async partitions(): Promise<{ topic: string; partition: number; offset: number; end: number }[]> {
    const ends = await this.#ranges().catch(() => []);
    return ends.map((r) => ({ topic: this.route.topic, partition: r.partition, offset: Math.max(this.#committed.get(r.partition) ?? r.start, r.start), end: r.end }));
  }

  /** Reads and writes until stopped (`follow`) or until every partition's end seen now is committed (`drain`). */
  async run(mode: SinkMode): Promise<void> {
    const ctx = this.#ctx;
    const ranges = await this.#ranges();
    await this.#restarted(ranges);
    // `latest` is decided once and kept: what is published after this moment is read, by
    // this run() and every later one (a drain after the step's own publishing), as Kafka
    // commits the position its reset policy chose.
    const fresh = this.#o.firstStart === 'latest' ? ranges.filter((r) => !this.#committed.has(r.partition)) : [];
    for (const r of fresh) this.#committed.set(r.partition, r.end);
    if (fresh.length > 0) await this.#stream.commit(fresh.map((r) => ({ topic: this.route.topic, partition: r.partition, offset: r.end, pendingEnd: null })));
    this.#position.clear();
    for (const r of ranges) this.#position.set(r.partition, Math.max(this.#committed.get(r.partition) ?? r.start, r.start));
    const ends = mode === 'drain' ? ranges : null;
    const reader: TopicReader = await ctx.topics.reader(this.route.topic, {
      from: [...this.#committed].map(([partition, offset]) => ({ partition, offset })), otherwise: this.#o.firstStart, buffer: this.#o.batchRows,
      ...(this.#stream.shard.count > 1 ? { partitions: ranges.map((r) => r.partition) } : {}),
    });
    try {
      while (!ctx.signal.aborted && !(ends && this.#reached(ends))) {
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
      while (mode === 'follow' && Date.now() - stoppedAt < DRAIN_MS) {
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

  /** The partitions this attempt reads, with their retained ranges. */
  async #ranges(): Promise<PartitionRange[]> {
    return (await this.#ctx.topics.partitions(this.route.topic)).filter((r) => ownsPartition(this.#stream.shard, r.partition));
  }

  /**
   * A committed position past a partition's end means the log started again (an embedded
   * topic lives as long as its process; a Kafka topic may be deleted and made anew): what is
   * there now is new, so the partition is read from its start. Without this the reader would
   * wait for the old offsets to come round again and skip everything until then.
   */
  async #restarted(ranges: readonly PartitionRange[]): Promise<void> {
    for (const r of ranges) {
      const committed = this.#committed.get(r.partition);
      const replay = this.#buffers.get(r.partition)?.until ?? null;
      if ((committed === undefined || committed <= r.end) && (replay === null || replay <= r.end)) continue;
      this.#ctx.log.warn(`${this.route.topic}/${r.partition}: committed offset ${committed}${replay === null ? '' : ` (batch pending to ${replay})`} is past the partition's end ${r.end}: `
        + `the topic started again (an embedded topic lives as long as its process; a Kafka topic was recreated), so it is read from its start ${r.start}`);
      this.#buffers.delete(r.partition);
      this.#committed.set(r.partition, r.start);
      await this.#stream.commit([{ topic: this.route.topic, partition: r.partition, offset: r.start, pendingEnd: null }]);
    }
  }

  #reached(ends: readonly PartitionRange[]): boolean {
    for (const e of ends) {
      // A crashed attempt's batch being replayed is not done until it is written.
      if ((this.#buffers.get(e.partition)?.until ?? null) !== null) return false;
      if ((this.#position.get(e.partition) ?? e.end) < e.end) return false;
    }
    return true;
  }

  #batch(from: number, until: number | null): Pending {
    return { from, lines: [], dead: [], skipped: 0, firstTimestamp: 0, since: Date.now(), until };
  }

  /** Adds records to their partitions' batches, handing over each batch that is full. */
  async #accept(records: readonly DataRecord[]): Promise<void> {
    let sinceYield = 0;
    for (const r of records) {
      // Checking is synchronous work; the batch being written needs the event loop now and
      // then (the engine's answer, the commit) or it waits until the whole read is checked.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        if (this.#writing) await yieldNow();
      }
      // A gap in offsets (retention) closes the partition's batch first: a batch is a contiguous range.
      if (!this.#take(r)) {
        await this.#flush(r.partition);
        this.#take(r);
      }
      this.#position.set(r.partition, r.offset + 1);
      if (this.#full(this.#buffers.get(r.partition) as Pending)) await this.#flush(r.partition);
      else if (this.#waiting() > 2 * this.#o.batchRows) await this.#flush(this.#largest());
    }
  }

  /** Records held over every partition: with many partitions, the bound is this, not one batch each. */
  #waiting(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += sizeOf(b);
    return n;
  }

  #largest(): number {
    let best = -1;
    let size = -1;
    for (const [partition, b] of this.#buffers) {
      if (b.until === null && sizeOf(b) > size) [best, size] = [partition, sizeOf(b)];
    }
    return best;
  }

  #full(b: Pending): boolean {
    return b.until !== null ? b.from + sizeOf(b) >= b.until : sizeOf(b) >= this.#o.batchRows;
  }

  #take(r: DataRecord): boolean {
    let batch = this.#buffers.get(r.partition);
    if (!batch) {
      batch = this.#batch(r.offset, null);
      this.#buffers.set(r.partition, batch);
    }
    if (r.offset !== batch.from + sizeOf(batch)) return false;
    if (sizeOf(batch) === 0) batch.firstTimestamp = r.timestamp;
    this.counters.records_in += 1;
    try {
      const line = this.#encoder.encode(r.value, this.route.map, this.route.where);
      if (line === null) batch.skipped += 1;
      else batch.lines.push(line);
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
    const to = batch.from + sizeOf(batch);
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
      // The first record's log timestamp tells a replay of this batch (same records, same
      // token: dropped by the engine) from new records at the same offsets of a topic that
      // started again (a new token: written).
      const token = `${this.#stream.name}/${topic}/${partition}/${batch.from}-${to}@${batch.firstTimestamp}`;
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
    this.counters.skipped += batch.skipped;
    this.counters.dead_letters += batch.dead.length;
    this.counters.batches += 1;
  }
}
