import type { LabelsOf, MetricDef } from '../core/metric-catalogue.ts';
import type { Metrics } from '../ports/metrics.ts';

type Of<T extends MetricDef['type']> = MetricDef & { readonly type: T };

/**
 * Records through the metric catalogue (src/core/metric-catalogue.ts): the definition gives
 * the name, help text and kind, and its label names are the only labels accepted.
 *
 * @example
 * catalogued(metrics).inc(METRICS.runsTotal, { pipeline: 'retail', status: 'failed' });
 */
export function catalogued(m: Metrics) {
  return {
    inc<D extends Of<'counter'>>(d: D, labels: LabelsOf<D>, by = 1): void {
      m.incCounter(d.name, d.help, { ...labels }, by);
    },
    set<D extends Of<'gauge'>>(d: D, labels: LabelsOf<D>, value: number): void {
      m.setGauge(d.name, d.help, { ...labels }, value);
    },
    observe<D extends Of<'histogram'>>(d: D, labels: LabelsOf<D>, value: number): void {
      m.observe(d.name, d.help, { ...labels }, value);
    },
  };
}

export type CataloguedMetrics = ReturnType<typeof catalogued>;
