import { prometheusRulesYaml } from './alert-rules.ts';
import { ALERTMANAGER_YAML } from './alertmanager-config.ts';
import { buildDashboard, DASHBOARDS } from './dashboards.ts';

/**
 * Every file generated from the metric catalogue, the alert rules and the dashboards, by
 * repository path: `npm run generate` writes them, and a test fails when a committed one differs.
 */
export function generatedFiles(): Record<string, string> {
  const rules = prometheusRulesYaml();
  const files: Record<string, string> = {
    'deploy/prometheus/rules/sluice.yaml': rules,
    // Helm reads only files inside the chart: its PrometheusRule includes this copy.
    'deploy/helm/sluice/files/prometheus-rules.yaml': rules,
    'deploy/alertmanager/alertmanager.yaml': ALERTMANAGER_YAML,
    // The monitoring app's chart reads it into Alertmanager's Secret.
    'deploy/argocd/apps/monitoring/files/alertmanager.yaml': ALERTMANAGER_YAML,
  };
  for (const spec of DASHBOARDS) {
    const json = `${JSON.stringify(buildDashboard(spec), null, 2)}\n`;
    files[`deploy/grafana/dashboards/${spec.uid}.json`] = json;
    // And for the chart's dashboard ConfigMap (Grafana's sidecar loads it).
    files[`deploy/helm/sluice/files/dashboards/${spec.uid}.json`] = json;
  }
  return files;
}
