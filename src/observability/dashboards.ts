import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { METRICS } from '../core/metric-catalogue.ts';

/** One panel: what it shows and the PromQL behind it (the tests evaluate every expression). */
export interface PanelSpec {
  readonly title: string;
  readonly kind: 'timeseries' | 'stat' | 'table';
  readonly unit: string;
  readonly description: string;
  readonly queries: readonly { readonly expr: string; readonly legend: string }[];
  /**
   * Instead of PromQL: SQL on the warehouse through Grafana's ClickHouse datasource
   * (`$__fromTime` / `$__toTime` are the dashboard's time range). The tests run each one.
   */
  readonly warehouse?: { readonly sql: string; readonly format: 'time_series' | 'table' };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** Rows of panels, in order. */
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[];
  /** `$pipeline`, picked from the pipelines that have runs. */
  readonly pipelineVariable?: boolean;
}

const m = METRICS;
const q = (expr: string, legend = '') => ({ expr, legend });
const quantile = (p: number, metric: string, by: string, filter = '') =>
  `histogram_quantile(${p}, sum by (le, ${by}) (rate(${metric}_bucket${filter}[$__rate_interval])))`;

/** The eight quality gauges the retail pipeline pushes after each run (`ctx.gauge`). */
export const RETAIL_GAUGES = [
  ['anomaly_unit_price_count', 'Lines with UnitPrice ≤ 0', 'none'],
  ['anomaly_quantity_count', 'Lines with Quantity > 1000', 'none'],
  ['missing_customer_id_ratio', 'Share of lines without a customer', 'percentunit'],
  ['latest_min_total_amount', 'Smallest line total', 'currencyGBP'],
  ['latest_max_total_amount', 'Largest line total', 'currencyGBP'],
  ['latest_median_total_amount', 'Median line total', 'currencyGBP'],
  ['latest_avg_total_amount', 'Average line total', 'currencyGBP'],
  ['latest_sales_volume', 'Sales volume of the latest day', 'currencyGBP'],
] as const;

/** Every dashboard Sluice ships, as specs: built with the Grafana Foundation SDK below. */
export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: 'sluice-overview',
    title: 'Sluice / Platform overview',
    description: 'Runs, steps, retries, lost attempts and the control plane\'s event lag, over every pipeline.',
    rows: [
      {
        title: 'Runs',
        panels: [
          { title: 'Runs ended, by status', kind: 'timeseries', unit: 'short', description: 'Runs that ended per interval, by final status.', queries: [q(`sum by (status) (increase(${m.runsTotal.name}[$__rate_interval]))`, '{{status}}')] },
          { title: 'Failed runs (range)', kind: 'stat', unit: 'short', description: 'Runs that ended failed over the dashboard\'s time range.', queries: [q(`sum(increase(${m.runsTotal.name}{status="failed"}[$__range]))`)] },
          { title: 'Runs by pipeline', kind: 'timeseries', unit: 'short', description: 'Runs that ended per interval, by pipeline.', queries: [q(`sum by (pipeline) (increase(${m.runsTotal.name}[$__rate_interval]))`, '{{pipeline}}')] },
        ],
      },
      {
        title: 'Steps',
        panels: [
          { title: 'Step duration p50 / p95', kind: 'timeseries', unit: 's', description: 'Duration of step attempts over every pipeline.', queries: [q(quantile(0.5, m.stepDuration.name, 'pipeline'), 'p50 {{pipeline}}'), q(quantile(0.95, m.stepDuration.name, 'pipeline'), 'p95 {{pipeline}}')] },
          { title: 'Retries', kind: 'timeseries', unit: 'short', description: 'Step attempts retried, by pipeline and step.', queries: [q(`sum by (pipeline, step) (increase(${m.attemptRetries.name}[$__rate_interval]))`, '{{pipeline}}/{{step}}')] },
          { title: 'Lost attempts', kind: 'timeseries', unit: 'short', description: 'Attempts whose worker or pod went away, by pipeline and step.', queries: [q(`sum by (pipeline, step) (increase(${m.lostAttempts.name}[$__rate_interval]))`, '{{pipeline}}/{{step}}')] },
        ],
      },
      {
        title: 'Capacity and scheduling',
        panels: [
          { title: 'Run queue', kind: 'timeseries', unit: 'short', description: 'Runs waiting for a concurrency slot, and runs in progress.', queries: [q(`sum(${m.runsQueued.name})`, 'queued'), q(`sum(${m.runsRunning.name})`, 'running')] },
          { title: 'Workers: attempts in flight and their events', kind: 'timeseries', unit: 'short', description: 'Attempts a worker or pod is running for the control plane, and the events per second they send (heartbeats, progress, results).', queries: [q(`sum(${m.attemptsInFlight.name})`, 'in flight'), q(`sum(rate(${m.eventsLag.name}_count[$__rate_interval]))`, 'events/s')] },
          { title: 'Scheduler', kind: 'timeseries', unit: 'short', description: 'Scheduler evaluations per minute, and schedule ticks by outcome.', queries: [q(`sum(rate(${m.schedulerEvaluations.name}[$__rate_interval])) * 60`, 'evaluations/min'), q(`sum by (outcome) (increase(${m.scheduleTicks.name}[$__rate_interval]))`, 'ticks {{outcome}}')] },
        ],
      },
      {
        title: 'Streams',
        panels: [
          { title: 'Stream lag', kind: 'timeseries', unit: 'short', description: 'Records of their topics the stream steps have not consumed yet, by stream.', queries: [q(`sum by (pipeline, step) (${m.streamLag.name})`, '{{pipeline}}.{{step}}')] },
          { title: 'Stream throughput', kind: 'timeseries', unit: 'short', description: 'Records per second the stream steps read and wrote, by stream.', queries: [q(`sum by (pipeline, step, counter) (rate(${m.streamRecords.name}{counter=~"records_in|records_out"}[$__rate_interval]))`, '{{pipeline}}.{{step}} {{counter}}')] },
          { title: 'Dead letters, reconnects, resyncs', kind: 'timeseries', unit: 'short', description: 'What went wrong on the way and was handled: records sent to a dead-letter topic, WebSocket reconnects, order-book resyncs.', queries: [q(`sum by (pipeline, step, counter) (increase(${m.streamRecords.name}{counter=~"dead_letters|reconnects|resyncs"}[$__rate_interval]))`, '{{pipeline}}.{{step}} {{counter}}')] },
          { title: 'Streams running', kind: 'stat', unit: 'short', description: 'Stream steps running now.', queries: [q(`sum(${m.streamRunning.name})`)] },
        ],
      },
      {
        title: 'Control plane',
        panels: [
          { title: 'Events lag p99', kind: 'timeseries', unit: 's', description: 'Time from a worker emitting an event to the control plane applying it.', queries: [q(quantile(0.99, m.eventsLag.name, 'type'), '{{type}}')] },
          { title: 'Event streams open', kind: 'stat', unit: 'short', description: 'Server-sent event streams the API holds open (the UI\'s live views).', queries: [q(`sum(${m.sseStreams.name})`)] },
          { title: 'Process CPU and memory', kind: 'timeseries', unit: 'short', description: 'The control plane process: CPU seconds per second and resident memory in GiB (prom-client\'s process metrics).', queries: [q('sum by (instance) (rate(process_cpu_seconds_total{job="sluice"}[$__rate_interval]))', 'cpu {{instance}}'), q('sum by (instance) (process_resident_memory_bytes{job="sluice"}) / 2^30', 'GiB {{instance}}')] },
          { title: 'Rows quarantined', kind: 'timeseries', unit: 'short', description: 'Malformed rows sent to quarantine, by pipeline and asset.', queries: [q(`sum by (pipeline, asset) (increase(${m.quarantinedRows.name}[$__rate_interval]))`, '{{pipeline}} {{asset}}')] },
        ],
      },
    ],
  },
  {
    uid: 'sluice-pipeline',
    title: 'Sluice / Pipeline',
    description: 'One pipeline: its runs, its steps\' durations and retries, and its checks.',
    pipelineVariable: true,
    rows: [
      {
        title: 'Runs and steps',
        panels: [
          { title: 'Runs ended, by status', kind: 'timeseries', unit: 'short', description: 'Runs of the pipeline that ended per interval.', queries: [q(`sum by (status) (increase(${m.runsTotal.name}{pipeline="$pipeline"}[$__rate_interval]))`, '{{status}}')] },
          { title: 'Step duration p95', kind: 'timeseries', unit: 's', description: 'Duration of the pipeline\'s step attempts, by step.', queries: [q(quantile(0.95, m.stepDuration.name, 'step', '{pipeline="$pipeline"}'), '{{step}}')] },
          { title: 'Retries and lost attempts', kind: 'timeseries', unit: 'short', description: 'By step.', queries: [q(`sum by (step) (increase(${m.attemptRetries.name}{pipeline="$pipeline"}[$__rate_interval]))`, 'retried {{step}}'), q(`sum by (step) (increase(${m.lostAttempts.name}{pipeline="$pipeline"}[$__rate_interval]))`, 'lost {{step}}')] },
        ],
      },
      {
        title: 'Checks',
        panels: [
          { title: 'Checks passing', kind: 'stat', unit: 'percentunit', description: 'Share of the pipeline\'s checks whose latest evaluation passed.', queries: [q(`avg(${m.checkPassed.name}{pipeline="$pipeline"})`)] },
          { title: 'Check results', kind: 'timeseries', unit: 'short', description: '1 passed, 0 failed: the latest result of each check.', queries: [q(`max by (asset, check) (${m.checkPassed.name}{pipeline="$pipeline"})`, '{{asset}} {{check}}')] },
        ],
      },
    ],
  },
  {
    uid: 'sluice-retail-quality',
    title: 'Sluice / Retail quality',
    description: 'The quality gauges the retail pipeline pushes after each run (Pushgateway, job sluice).',
    rows: [
      {
        title: 'Latest day',
        panels: RETAIL_GAUGES.map(([name, title, unit]) => ({
          title, kind: 'stat' as const, unit, description: `${name}, as the latest retail run pushed it.`,
          queries: [q(`max(${name}{pipeline="retail"})`)],
        })),
      },
      {
        title: 'Over time',
        panels: [
          { title: 'Anomalies', kind: 'timeseries', unit: 'none', description: 'Lines with a suspicious price or quantity on the latest day of each run.', queries: [q('max(anomaly_unit_price_count{pipeline="retail"})', 'UnitPrice ≤ 0'), q('max(anomaly_quantity_count{pipeline="retail"})', 'Quantity > 1000')] },
          { title: 'Line totals', kind: 'timeseries', unit: 'currencyGBP', description: 'Min, median, average and max line total of the latest day.', queries: ['min', 'median', 'avg', 'max'].map((k) => q(`max(latest_${k}_total_amount{pipeline="retail"})`, k)) },
        ],
      },
      {
        title: 'Warehouse (ClickHouse)',
        panels: [
          { title: 'Sales volume per day', kind: 'timeseries', unit: 'currencyGBP', description: 'quality.sales_summary: the sales facts of each loaded day, summed up.', queries: [],
            warehouse: { format: 'time_series', sql: 'SELECT toDateTime(day) AS time, volume AS sales FROM quality.sales_summary WHERE day BETWEEN toDate($__fromTime) AND toDate($__toTime) ORDER BY time' } },
          { title: 'Line issues by kind', kind: 'table', unit: 'none', description: 'quality.line_issues: lines kept but flagged, by issue, over the time range.', queries: [],
            warehouse: { format: 'table', sql: 'SELECT issue, count() AS lines, uniqExact(day) AS days FROM quality.line_issues WHERE day BETWEEN toDate($__fromTime) AND toDate($__toTime) GROUP BY issue ORDER BY lines DESC' } },
        ],
      },
    ],
  },
];

const PROMETHEUS = { type: 'prometheus', uid: '${datasource}' };
const CLICKHOUSE = { type: 'grafana-clickhouse-datasource', uid: '${warehouse}' };

// The Foundation SDK has no ClickHouse query type: the plugin's own query model, by hand.
function clickhouseQuery(w: NonNullable<PanelSpec['warehouse']>): Builder<Dataquery> {
  return {
    build: () => ({ refId: 'A', datasource: CLICKHOUSE, editorType: 'sql', queryType: w.format === 'table' ? 'table' : 'timeseries', format: w.format === 'table' ? 1 : 0, rawSql: w.sql }) as unknown as Dataquery,
  };
}

/** A dashboard spec as Grafana's dashboard JSON, built with the Foundation SDK. */
export function buildDashboard(spec: DashboardSpec): unknown {
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['sluice', 'generated'])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('utc')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'));
  if (spec.rows.some((r) => r.panels.some((p) => p.warehouse))) {
    d.withVariable(new DatasourceVariableBuilder('warehouse').label('Warehouse').type('grafana-clickhouse-datasource'));
  }
  if (spec.pipelineVariable) {
    d.withVariable(new QueryVariableBuilder('pipeline').label('Pipeline').datasource(PROMETHEUS)
      .query(`label_values(${m.runsTotal.name}, pipeline)`).refresh(2));
  }
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.title));
    for (const p of row.panels) {
      const targets = p.warehouse ? [clickhouseQuery(p.warehouse)]
        : p.queries.map((x, i) => new DataqueryBuilder().expr(x.expr).legendFormat(x.legend || '__auto').refId(String.fromCharCode(65 + i)).datasource(PROMETHEUS));
      const panel = p.kind === 'stat' ? new StatPanel() : p.kind === 'table' ? new TablePanel() : new TimeseriesPanel();
      panel.title(p.title).description(p.description).unit(p.unit).datasource(p.warehouse ? CLICKHOUSE : PROMETHEUS).targets(targets).height(p.kind === 'stat' ? 5 : 8).span(p.kind === 'stat' ? (row.panels.length > 4 ? 6 : 8) : 8);
      d.withPanel(panel);
    }
  }
  return d.build();
}
