/**
 * Every Prometheus series Sluice's own code writes, in one place: the runtime records
 * through these definitions and the dashboards and alert rules are generated from them, so a
 * name, a label or a help text cannot drift between what is exported and what is watched.
 * Gauges a step reports (`ctx.gauge`, e.g. retail's quality gauges) are named by the
 * pipeline and are not listed here.
 */
export interface MetricDef {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
}

const def = <const T extends MetricDef['type'], const L extends readonly string[]>(name: string, type: T, help: string, labels: L) =>
  ({ name, type, help, labels }) as const;

export const METRICS = {
  runsTotal: def('sluice_runs_total', 'counter', 'Runs by final status', ['pipeline', 'status']),
  stepDuration: def('sluice_step_duration_seconds', 'histogram', 'Duration of step attempts', ['pipeline', 'status', 'step']),
  attemptRetries: def('sluice_attempt_retries_total', 'counter', 'Step attempts retried', ['pipeline', 'step']),
  lostAttempts: def('sluice_lost_attempts_total', 'counter', 'Attempts whose worker stopped answering', ['pipeline', 'step']),
  eventsLag: def('sluice_events_lag_seconds', 'histogram', 'Time from an event being emitted to the control plane applying it', ['type']),
  quarantinedRows: def('sluice_quarantined_rows_total', 'counter', 'Rows sent to quarantine', ['asset', 'pipeline']),
  checkPassed: def('sluice_check_passed', 'gauge', 'Latest result of a check (1 passed, 0 failed)', ['asset', 'check', 'pipeline', 'severity']),
  runsQueued: def('sluice_runs_queued', 'gauge', 'Runs waiting for a concurrency slot', []),
  runsRunning: def('sluice_runs_running', 'gauge', 'Runs this control plane is driving', []),
  attemptsInFlight: def('sluice_attempts_in_flight', 'gauge', 'Attempts dispatched or running whose worker is expected to report', []),
  schedulerEvaluations: def('sluice_scheduler_evaluations_total', 'counter', 'Scheduler evaluations (each looks at every schedule)', []),
  scheduleTicks: def('sluice_schedule_ticks_total', 'counter', 'Schedule ticks by what became of them', ['outcome', 'pipeline', 'schedule']),
  scheduleNextTick: def('sluice_schedule_next_tick_timestamp_seconds', 'gauge', 'When an enabled schedule fires next (Unix seconds; 0 while disabled)', ['pipeline', 'schedule']),
  streamLag: def('sluice_stream_lag', 'gauge', 'Records of a partition a stream has not consumed yet', ['partition', 'pipeline', 'step', 'topic']),
  streamRecords: def('sluice_stream_records_total', 'counter', 'What stream steps counted: records in and out, dead letters, reconnects, resyncs', ['counter', 'pipeline', 'step']),
  streamReplicas: def('sluice_stream_replicas', 'gauge', 'Attempts of a stream step running now (more than 1 when it scales on lag)', ['pipeline', 'step']),
  streamRunning: def('sluice_stream_running', 'gauge', 'Whether a stream step is running (1) or not (0)', ['pipeline', 'step']),
  metricsPushFailures: def('sluice_metrics_push_failures_total', 'counter', 'Pushes to the Pushgateway that failed', ['pipeline']),
  sseStreams: def('sluice_sse_streams', 'gauge', 'Open event streams (SSE)', []),
  sseRefused: def('sluice_sse_refused_total', 'counter', 'Event streams refused by the stream caps', ['reason']),
  sseOverflows: def('sluice_sse_overflows_total', 'counter', 'Event streams closed because the client did not keep up', ['reason']),
} as const satisfies Record<string, MetricDef>;

/** The labels a catalogued metric takes, each one required. */
export type LabelsOf<D extends MetricDef> = { readonly [K in D['labels'][number]]: string };
