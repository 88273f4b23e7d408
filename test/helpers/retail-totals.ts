import assert from 'node:assert/strict';

/** Row counts of every retail layer: rerunning or recovering must never change them. */
export const RETAIL_COUNTS_SQL = `
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
    (SELECT count() FROM quality.line_issues) AS line_issues`;

/** The reference totals for the committed 20-day sample. */
export const RETAIL_TOTALS = {
  raw: 42_481, staged: 42_481, fact_sales: 26_160, fact_sale_returns: 690, without_customer: 15_631,
  products: 2_822, customers: 948, sat_invoice_line: 42_481, data_quality_days: 20, sales_summary_days: 20,
};

export const numbers = (row: Record<string, unknown>): Record<string, number> =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));

/** Asserts the 20-day reference totals on a row of RETAIL_COUNTS_SQL. */
export function assertRetailTotals(counts: Record<string, number>): void {
  const picked = Object.fromEntries(Object.keys(RETAIL_TOTALS).map((k) => [k, counts[k]]));
  assert.deepEqual(picked, RETAIL_TOTALS);
}
