export type Labels = Record<string, string>;

/** A Prometheus registry. Names are created on first use with their help text. */
export interface Metrics {
  setGauge(name: string, help: string, labels: Labels, value: number): void;
  incCounter(name: string, help: string, labels: Labels, by?: number): void;
  observe(name: string, help: string, labels: Labels, value: number): void;
  /**
   * Prometheus text exposition format. `process: false` leaves out the process' own metrics
   * (CPU, memory, event loop): what is pushed for a batch run outlives the process, they don't.
   */
  render(options?: { readonly process?: boolean }): Promise<string>;
  readonly contentType: string;
}

/** Pushes a batch job's metrics to a Prometheus Pushgateway. */
export interface MetricsPusher {
  /** Replaces the group `job` (+ grouping labels) with the current values of `metrics`. */
  push(metrics: Metrics, job: string, grouping?: Labels): Promise<void>;
}
