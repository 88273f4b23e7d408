import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/presets/config.ts';
import { openRuntime, type Runtime } from '../../src/presets/embedded.ts';

/** A fresh state directory that is removed with `cleanup()`. */
export function tempHome(prefix = 'sluice-test-'): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** The embedded runtime on a given home, with no environment leaking in from the shell. */
export function openTestRuntime(home: string, options: { pipelines?: string[]; env?: Record<string, string> } = {}): Promise<Runtime> {
  const config = loadConfig({ env: options.env ?? {}, cwd: process.cwd(), home, pipelines: options.pipelines, logLevel: 'silent' });
  return openRuntime(config);
}

/** Counts that must not change when a partition is rerun. */
export async function retailCounts(rt: Runtime): Promise<Record<string, number>> {
  const [r] = await rt.services.warehouse.query<Record<string, number>>(`
    SELECT
      (SELECT count() FROM raw.online_retail) AS raw,
      (SELECT count() FROM staging.online_retail) AS staged,
      (SELECT count() FROM marts.fact_sales) AS fact_sales,
      (SELECT count() FROM marts.fact_sale_returns) AS fact_sale_returns,
      (SELECT countIf(customer_id IS NULL) FROM staging.online_retail) AS without_customer,
      (SELECT count() FROM marts.dim_product FINAL) AS products,
      (SELECT count() FROM marts.dim_customer FINAL) AS customers,
      (SELECT count() FROM vault.hub_invoice FINAL) AS hub_invoice,
      (SELECT count() FROM vault.sat_invoice_line FINAL) AS sat_invoice_line,
      (SELECT count() FROM vault.link_invoice_product FINAL) AS link_invoice_product,
      (SELECT count() FROM quality.data_quality) AS data_quality_days,
      (SELECT count() FROM quality.sales_summary) AS sales_summary_days,
      (SELECT count() FROM quality.line_issues) AS line_issues`);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
}
