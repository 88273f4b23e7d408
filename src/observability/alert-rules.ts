import { stringify } from 'yaml';
import { METRICS } from '../core/metric-catalogue.ts';

/** One Prometheus alerting rule, with the runbook a person follows when it fires. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** How long the condition holds before the alert fires (Prometheus `for`). */
  readonly for?: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
  readonly description: string;
}

const m = METRICS;

/**
 * Sluice's alerts, written against the metric catalogue's names so that a renamed metric
 * renames its alerts with it. Each has a runbook at docs/runbooks/<alert>.md. The
 * Pushgateway's own `push_time_seconds` (one per pushed group) and Prometheus' `up` are
 * the only series named here that Sluice does not write itself.
 */
export const ALERTS: readonly AlertRule[] = [
  {
    alert: 'SluiceRunFailed',
    expr: `sum by (pipeline) (increase(${m.runsTotal.name}{status="failed"}[10m])) > 0`,
    severity: 'warning',
    summary: 'A run of {{ $labels.pipeline }} failed',
    description: '{{ $value | humanize }} run(s) of pipeline {{ $labels.pipeline }} ended failed in the last 10 minutes. `sluice runs --pipeline {{ $labels.pipeline }} --status failed` lists them with their error.',
  },
  {
    alert: 'SluiceAttemptsLost',
    expr: `sum by (pipeline, step) (increase(${m.lostAttempts.name}[15m])) > 0`,
    severity: 'warning',
    summary: 'Attempts of {{ $labels.pipeline }}/{{ $labels.step }} lost their worker',
    description: '{{ $value | humanize }} attempt(s) of step {{ $labels.step }} stopped sending heartbeats in the last 15 minutes (a worker or pod killed, a node gone, an event loop blocked) and were retried per the step\'s policy.',
  },
  {
    alert: 'SluiceEventsLagHigh',
    expr: `histogram_quantile(0.99, sum by (le) (rate(${m.eventsLag.name}_bucket[5m]))) > 30`,
    for: '5m',
    severity: 'warning',
    summary: 'The control plane applies events {{ $value | humanizeDuration }} after they were sent',
    description: 'The 99th percentile of the time from an event being emitted by a worker to the control plane applying it has been above 30 s for 5 minutes: run states and the UI are behind.',
  },
  {
    alert: 'SluiceNoHeartbeats',
    // Every event of an attempt is a sign of life (a heartbeat is one): the lag histogram counts them all.
    expr: `sum(${m.attemptsInFlight.name}) > 0 unless sum(increase(${m.eventsLag.name}_count[5m])) > 0`,
    for: '5m',
    severity: 'critical',
    summary: 'Attempts are in flight but none of them was heard from for 10 minutes',
    description: 'The control plane waits on {{ $value }} attempt(s) and has applied no event of any attempt (heartbeats included) for 10 minutes: workers or attempt pods cannot reach the bus, or its consumer is stuck. Attempts will be declared lost and retried.',
  },
  {
    alert: 'SluiceScheduleMissed',
    expr: `(time() - ${m.scheduleNextTick.name} > 300) and (${m.scheduleNextTick.name} > 0)`,
    severity: 'warning',
    summary: 'Schedule {{ $labels.schedule }} of {{ $labels.pipeline }} missed its tick',
    description: 'The tick due {{ $value | humanizeDuration }} ago has not been fired: the scheduler stopped evaluating (a stuck control plane, a store that does not answer). Missed ticks are fired on recovery, up to the catch-up limit.',
  },
  {
    alert: 'SluiceStreamFallingBehind',
    // Lag that is there and grows: a stream that keeps up has lag near 0 however busy the topic.
    expr: `sum by (pipeline, step) (${m.streamLag.name}) > 1000 and sum by (pipeline, step) (delta(${m.streamLag.name}[10m])) > 0`,
    for: '10m',
    severity: 'warning',
    summary: 'Stream {{ $labels.pipeline }}.{{ $labels.step }} falls behind its topic',
    description: 'Stream {{ $labels.pipeline }}.{{ $labels.step }} has {{ $value | humanize }} records it has not consumed yet and the number has grown for 10 minutes: its sink is slow or failing (it backs off), or the topic gets more than one worker can write.',
  },
  {
    alert: 'SluiceStreamDeadLetters',
    expr: `sum by (pipeline, step) (increase(${m.streamRecords.name}{counter="dead_letters"}[10m])) > 0`,
    severity: 'warning',
    summary: 'Stream {{ $labels.pipeline }}.{{ $labels.step }} sent records to its dead-letter topic',
    description: 'Records of stream {{ $labels.pipeline }}.{{ $labels.step }} were not valid JSON or did not fit their table in the last 10 minutes; they are in sluice.dlq.{{ $labels.pipeline }}.{{ $labels.step }} with the reason, and the stream went on.',
  },
  {
    alert: 'SluiceCheckFailed',
    expr: `${m.checkPassed.name}{severity="error"} == 0`,
    severity: 'critical',
    summary: 'Check {{ $labels.check }} on {{ $labels.asset }} failed',
    description: 'The latest evaluation of the error-severity check {{ $labels.check }} of pipeline {{ $labels.pipeline }} on asset {{ $labels.asset }} failed: the asset is not fit to use until a run passes it again.',
  },
  {
    alert: 'SluiceMetricsPushFailing',
    expr: `sum by (pipeline) (increase(${m.metricsPushFailures.name}[30m])) > 0`,
    severity: 'warning',
    summary: 'Runs of {{ $labels.pipeline }} cannot push their metrics',
    description: 'Pushes of pipeline {{ $labels.pipeline }}\'s metrics to the Pushgateway failed {{ $value | humanize }} time(s) in the last 30 minutes; its gauges on the dashboards are going stale.',
  },
  {
    alert: 'SluicePushgatewayStale',
    expr: 'time() - max by (pipeline) (push_time_seconds{job="sluice"}) > 26 * 3600',
    severity: 'warning',
    summary: 'No run of {{ $labels.pipeline }} pushed metrics for {{ $value | humanizeDuration }}',
    description: 'The Pushgateway group of pipeline {{ $labels.pipeline }} was last pushed more than 26 hours ago: its daily run did not finish, or its pushes fail.',
  },
  {
    alert: 'SluiceControlPlaneDown',
    expr: 'up{job="sluice"} == 0',
    for: '2m',
    severity: 'critical',
    summary: 'The Sluice control plane at {{ $labels.instance }} does not answer',
    description: 'Prometheus could not scrape {{ $labels.instance }} for 2 minutes: no run is scheduled, advanced or retried by it, and its API is down.',
  },
];

/** Where a rule's runbook lives, relative to the repository root. */
export const runbookPath = (alert: string): string => `docs/runbooks/${alert}.md`;

/**
 * The rules as a Prometheus rule file (`groups:`), each alert with its runbook_url: the
 * repository path, or under `runbookBase` (a URL a person can open from the alert).
 */
export function prometheusRules(runbookBase = ''): { groups: { name: string; rules: unknown[] }[] } {
  return {
    groups: [{
      name: 'sluice',
      rules: ALERTS.map((a) => ({
        alert: a.alert,
        expr: a.expr,
        ...(a.for ? { for: a.for } : {}),
        labels: { severity: a.severity },
        annotations: { summary: a.summary, description: a.description, runbook_url: runbookBase ? `${runbookBase}/${runbookPath(a.alert)}` : runbookPath(a.alert) },
      })),
    }],
  };
}

/** The rule file's text: a header saying it is generated, then YAML. */
export function prometheusRulesYaml(runbookBase = ''): string {
  return `# Generated by \`npm run generate\` from src/observability/alert-rules.ts: do not edit.\n${stringify(prometheusRules(runbookBase), { lineWidth: 0 })}`;
}
