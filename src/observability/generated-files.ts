import { prometheusRulesYaml } from './alert-rules.ts';

/**
 * Every file generated from the metric catalogue and the alert rules, by repository path:
 * `npm run generate` writes them, and a test fails when a committed one differs.
 */
export function generatedFiles(): Record<string, string> {
  const rules = prometheusRulesYaml();
  return {
    'deploy/prometheus/rules/sluice.yaml': rules,
    // Helm reads only files inside the chart: the PrometheusRule template includes this copy.
    'deploy/helm/sluice/files/prometheus-rules.yaml': rules,
  };
}
