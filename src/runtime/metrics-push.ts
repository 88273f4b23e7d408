import { METRICS } from '../core/metric-catalogue.ts';
import { catalogued } from './catalogued-metrics.ts';
import { describeError } from '../core/errors.ts';
import { isTerminalRun } from '../core/states.ts';
import type { Metrics, MetricsPusher } from '../ports/metrics.ts';
import { pipelineExposition } from './pipeline-exposition.ts';
import type { RunUpdate } from './run-updates.ts';
import type { Logger } from './services.ts';

/**
 * Pushes the metrics to a Pushgateway when a run ends, grouped by pipeline, so a batch
 * pipeline's gauges outlive the process that computed them. A run listener: the coordinator
 * knows nothing of it. Pushes of one pipeline go one at a time, and runs that end while one
 * waits share it (it sends the latest values anyway); `close` waits for what is under way.
 */
export class MetricsPush {
  readonly #pusher: MetricsPusher;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #tails = new Map<string, Promise<void>>();
  readonly #waiting = new Set<string>();

  constructor(pusher: MetricsPusher, metrics: Metrics, logger: Logger) {
    this.#pusher = pusher;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  readonly listener = (u: RunUpdate): void => {
    if (u.kind !== 'run' || !isTerminalRun(u.status) || this.#waiting.has(u.pipeline)) return;
    const pipeline = u.pipeline;
    this.#waiting.add(pipeline);
    const tail = (this.#tails.get(pipeline) ?? Promise.resolve()).then(async () => {
      this.#waiting.delete(pipeline);
      try {
        // Only this pipeline's series: see pipelineExposition.
        const m = this.#metrics;
        const own: Metrics = {
          setGauge: (...a) => m.setGauge(...a), incCounter: (...a) => m.incCounter(...a), observe: (...a) => m.observe(...a),
          render: async () => pipelineExposition(await m.render({ process: false }), pipeline), contentType: m.contentType,
        };
        await this.#pusher.push(own, 'sluice', { pipeline });
      } catch (err) {
        this.#logger.warn({ err: describeError(err), pipeline }, 'could not push metrics to the Pushgateway');
        catalogued(this.#metrics).inc(METRICS.metricsPushFailures, { pipeline });
      }
    });
    this.#tails.set(pipeline, tail);
    void tail.then(() => {
      if (this.#tails.get(pipeline) === tail) this.#tails.delete(pipeline);
    });
  };

  async close(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
