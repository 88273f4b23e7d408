import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Labels, Metrics } from '../../ports/metrics.ts';

export interface PromMetricsOptions {
  /** Defaults to a new Registry, so render() shows only Sluice's own metrics. */
  readonly registry?: Registry;
  /** Prepended to every metric name, e.g. `sluice_`. */
  readonly prefix?: string;
  /** Labels added to every sample (prom-client default labels of the registry). */
  readonly defaultLabels?: Record<string, string>;
  /** Histogram buckets; prom-client's defaults (5ms..10s) otherwise. */
  readonly buckets?: readonly number[];
  /** Also expose prom-client's process metrics (CPU, memory, event loop lag, GC) as `process_*` and `nodejs_*`. */
  readonly processMetrics?: boolean;
}

type Kind = 'gauge' | 'counter' | 'histogram';

interface Entry {
  readonly kind: Kind;
  readonly labelNames: readonly string[];
  readonly metric: Gauge | Counter | Histogram;
}

/**
 * Metrics on prom-client. Metrics are declared on first use because the port has no
 * separate "define" step: the first call fixes a metric's kind and label names, and any
 * later call that disagrees is a programming error we report loudly rather than letting
 * prom-client silently drop or mislabel samples.
 */
export function createPromMetrics(options: PromMetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? '';
  if (options.defaultLabels) registry.setDefaultLabels({ ...options.defaultLabels });
  const buckets = options.buckets ? [...options.buckets] : undefined;
  const entries = new Map<string, Entry>();
  // A registry of their own, so a push can leave them out.
  const processRegistry = options.processMetrics ? new Registry() : null;
  if (processRegistry) {
    if (options.defaultLabels) processRegistry.setDefaultLabels({ ...options.defaultLabels });
    collectDefaultMetrics({ register: processRegistry });
  }

  function entry(kind: Kind, name: string, help: string, labels: Labels): Entry {
    const fullName = prefix + name;
    const labelNames = Object.keys(labels).sort();
    const existing = entries.get(fullName);
    if (existing) {
      if (existing.kind !== kind) {
        throw new Error(`metric ${fullName} is a ${existing.kind}, cannot use it as a ${kind}`);
      }
      if (!sameNames(existing.labelNames, labelNames)) {
        throw new Error(
          `metric ${fullName} was created with labels [${existing.labelNames.join(', ')}], ` +
            `got [${labelNames.join(', ')}]`,
        );
      }
      return existing;
    }
    const config = { name: fullName, help, labelNames, registers: [registry] };
    let metric: Gauge | Counter | Histogram;
    try {
      if (kind === 'gauge') metric = new Gauge(config);
      else if (kind === 'counter') metric = new Counter(config);
      else metric = new Histogram(buckets ? { ...config, buckets } : config);
    } catch (err) {
      throw new Error(`cannot create ${kind} ${fullName}: ${(err as Error).message}`, { cause: err });
    }
    const created = { kind, labelNames, metric };
    entries.set(fullName, created);
    return created;
  }

  return {
    setGauge(name, help, labels, value) {
      (entry('gauge', name, help, labels).metric as Gauge).set({ ...labels }, value);
    },
    incCounter(name, help, labels, by = 1) {
      (entry('counter', name, help, labels).metric as Counter).inc({ ...labels }, by);
    },
    observe(name, help, labels, value) {
      (entry('histogram', name, help, labels).metric as Histogram).observe({ ...labels }, value);
    },
    async render(o = {}) {
      const own = await registry.metrics();
      if (!processRegistry || o.process === false) return own;
      return `${own.trimEnd()}\n${await processRegistry.metrics()}`;
    },
    get contentType() {
      return registry.contentType;
    },
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
