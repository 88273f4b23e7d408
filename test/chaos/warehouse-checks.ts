import { numbers, RETAIL_COUNTS_SQL, RETAIL_TOTALS } from '../helpers/retail-totals.ts';
import type { Api } from './api.ts';
import type { Violation } from './run-checks.ts';

/**
 * Rows that appear more than once, per layer, by each table's own line identity (the
 * vault's ReplacingMergeTree tables are counted FINAL in RETAIL_COUNTS_SQL instead), and
 * staging tables of replacePartitions left behind once every run has ended.
 */
const DUPLICATES_SQL = `
  SELECT
    (SELECT count() - uniqExact(source_file, line_no) FROM raw.online_retail) AS raw,
    (SELECT count() - uniqExact(source_file, line_no) FROM staging.online_retail) AS staging,
    (SELECT count() - uniqExact(line_hk) FROM marts.fact_sales) AS fact_sales,
    (SELECT count() - uniqExact(line_hk) FROM marts.fact_sale_returns) AS fact_sale_returns,
    (SELECT count() - uniqExact(day) FROM quality.data_quality) AS data_quality,
    (SELECT count() - uniqExact(day) FROM quality.sales_summary) AS sales_summary,
    (SELECT count() - uniqExact(issue, line_hk) FROM quality.line_issues) AS line_issues,
    (SELECT count() FROM quality.quarantine FINAL) AS quarantined,
    (SELECT count() FROM system.tables WHERE database IN ('raw', 'staging', 'marts', 'quality') AND position(name, '__w_') > 0) AS leftover_tables`;

export interface WarehouseState {
  readonly counts: Record<string, number>;
  readonly duplicates: Record<string, number>;
}

export async function readWarehouse(api: Api): Promise<WarehouseState> {
  const [counts] = await api.query(RETAIL_COUNTS_SQL);
  const [duplicates] = await api.query(DUPLICATES_SQL);
  return { counts: numbers(counts), duplicates: numbers(duplicates) };
}

/** The unfaulted baseline load must itself match the issue's reference totals and be clean. */
export function checkBaseline(s: WarehouseState): Violation[] {
  const out: Violation[] = [];
  for (const [k, want] of Object.entries(RETAIL_TOTALS)) {
    if (s.counts[k] !== want) out.push({ kind: 'baseline', runId: null, message: `unfaulted load: ${k} = ${s.counts[k]}, reference ${want}` });
  }
  for (const [k, n] of Object.entries(s.duplicates)) {
    if (n !== 0) out.push({ kind: 'baseline', runId: null, message: `unfaulted load: ${k} = ${n}` });
  }
  return out;
}

/**
 * Every retail run loads days the baseline already holds and a rerun replaces a day, so
 * once nothing runs the tables hold exactly the baseline's counts, with no row twice.
 */
export function checkWarehouse(s: WarehouseState, baseline: WarehouseState, when: string): Violation[] {
  const out: Violation[] = [];
  const diff = Object.keys(baseline.counts).filter((k) => s.counts[k] !== baseline.counts[k]);
  if (diff.length > 0) {
    out.push({ kind: 'warehouse-totals', runId: null, message: `${when}: ${diff.map((k) => `${k} ${s.counts[k]} (want ${baseline.counts[k]})`).join(', ')}` });
  }
  const doubled = Object.entries(s.duplicates).filter(([, n]) => n !== 0);
  if (doubled.length > 0) {
    out.push({ kind: 'warehouse-duplicates', runId: null, message: `${when}: ${doubled.map(([k, n]) => `${k} ${n}`).join(', ')}` });
  }
  return out;
}
