import type { PartitionWindow } from '../../core/partitions.ts';
import type { Placement } from '../../core/placement.ts';
import type { StreamScaleInput } from '../../core/stream-scale.ts';
import { step, type StepDef } from '../step.ts';
import { sinkSettings, TopicSink, type TopicSinkOptions } from './topic-sink.ts';

export type { ConnectorRoute } from './route-run.ts';

export interface ConnectorOptions<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> extends Omit<TopicSinkOptions<P, W>, 'progress'> {
  /** The step's name; the stream is `<pipeline>.<name>`, its dead letters `sluice.dlq.<pipeline>.<name>`. */
  name: string;
  description?: string;
  deps?: readonly (string | StepDef<P, W>)[];
  placement?: Placement;
  /** Replicas on lag, each writing its share of the partitions (see `step`'s `scale`). */
  scale?: StreamScaleInput;
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
  sinkSettings(`connector ${options.name}`, options);
  return step<P, W>({
    name: options.name,
    description: options.description ?? options.routes.map((r) => `${r.topic} → ${r.table}`).join(', '),
    deps: options.deps,
    assets: options.routes.flatMap((r) => (r.asset ? [r.asset] : [])),
    placement: options.placement,
    stream: true,
    scale: options.scale,
    run: async (ctx) => {
      const sink = await TopicSink.open(ctx, options);
      await sink.report('running');
      await sink.follow();
      await sink.report('stopping');
      for (const r of sink.routes) {
        if (!r.route.asset) continue;
        ctx.materialize(r.route.asset.name as never, { rows: r.counters.records_out, metadata: { dead_letters: r.counters.dead_letters, batches: r.counters.batches, table: r.route.table } });
      }
    },
  });
}
