// The retail pipeline's warehouse tables. Every statement is idempotent, so the schema
// step runs on every run and a new column is one more ALTER … ADD COLUMN IF NOT EXISTS.

const rmt = (version: string) => `ENGINE = ReplacingMergeTree(${version})`;

export const RETAIL_DDL: readonly string[] = [
  'CREATE DATABASE IF NOT EXISTS raw',
  'CREATE DATABASE IF NOT EXISTS staging',
  'CREATE DATABASE IF NOT EXISTS vault',
  'CREATE DATABASE IF NOT EXISTS marts',
  'CREATE DATABASE IF NOT EXISTS quality',

  `CREATE TABLE IF NOT EXISTS raw.online_retail (
    day Date COMMENT 'invoice day; 1970-01-01 when InvoiceDate is empty',
    invoice_no String, stock_code String, description String,
    quantity Int32, invoice_date Nullable(DateTime('UTC')), unit_price Float64,
    customer_id String COMMENT 'as given, e.g. 17850.0 or empty', country String,
    line_total Float64 DEFAULT quantity * unit_price,
    source_file String, line_no UInt64, run_id String,
    loaded_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = MergeTree PARTITION BY day ORDER BY (invoice_no, source_file, line_no)`,

  `CREATE TABLE IF NOT EXISTS quality.quarantine (
    pipeline String, source_file String, line_no UInt64, raw_text String, reason String,
    run_id String, quarantined_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ${rmt('quarantined_at')} ORDER BY (pipeline, source_file, line_no)`,

  `CREATE TABLE IF NOT EXISTS staging.online_retail (
    day Date, invoice_no String, invoice_no_raw String, stock_code String, description String,
    quantity Int32, invoice_date DateTime('UTC'), unit_price Float64, customer_id Nullable(UInt32),
    country String, line_total Float64, is_return UInt8, line_in_invoice UInt32, line_hk String,
    source_file String, line_no UInt64
  ) ENGINE = MergeTree PARTITION BY day ORDER BY (invoice_no_raw, line_in_invoice)`,

  // Data vault: hubs of business keys, links between them, satellites of attributes.
  // Insert-only; the ReplacingMergeTree key makes a concurrent double insert collapse.
  ...['invoice:invoice_no String', 'product:stock_code String', 'customer:customer_id UInt32',
    'time:invoice_date DateTime(\'UTC\')', 'country:country String'].map((spec) => {
    const [name, col] = spec.split(':');
    return `CREATE TABLE IF NOT EXISTS vault.hub_${name} (
      ${name}_hk String, ${col}, load_ts DateTime64(3, 'UTC'), record_source String
    ) ${rmt('')} ORDER BY ${name}_hk`;
  }),
  ...[['invoice', 'product'], ['invoice', 'customer'], ['invoice', 'time'], ['invoice', 'country'], ['customer', 'country']].map(
    ([a, b]) => `CREATE TABLE IF NOT EXISTS vault.link_${a}_${b} (
      link_hk String, ${a}_hk String, ${b}_hk String, load_ts DateTime64(3, 'UTC'), record_source String
    ) ${rmt('')} ORDER BY link_hk`,
  ),
  `CREATE TABLE IF NOT EXISTS vault.sat_invoice_line (
    line_hk String, hash_diff String, invoice_hk String, product_hk String, customer_hk Nullable(String),
    time_hk String, country_hk String, day Date, invoice_no_raw String, line_in_invoice UInt32,
    quantity Int32, unit_price Float64, line_total Float64, is_return UInt8,
    load_ts DateTime64(3, 'UTC'), record_source String
  ) ${rmt('')} ORDER BY (line_hk, hash_diff)`,
  `CREATE TABLE IF NOT EXISTS vault.sat_product (
    product_hk String, hash_diff String, description String, load_ts DateTime64(3, 'UTC'), record_source String
  ) ${rmt('')} ORDER BY (product_hk, hash_diff)`,
  `CREATE TABLE IF NOT EXISTS vault.sat_time (
    time_hk String, hash_diff String, day Date, year UInt16, month UInt8, day_of_month UInt8,
    day_of_week UInt8, hour UInt8, load_ts DateTime64(3, 'UTC'), record_source String
  ) ${rmt('')} ORDER BY (time_hk, hash_diff)`,

  `CREATE TABLE IF NOT EXISTS marts.dim_product (
    product_hk String, stock_code String, description String, updated_at DateTime64(3, 'UTC')
  ) ${rmt('updated_at')} ORDER BY product_hk`,
  `CREATE TABLE IF NOT EXISTS marts.dim_customer (
    customer_hk String, customer_id UInt32, country String, updated_at DateTime64(3, 'UTC')
  ) ${rmt('updated_at')} ORDER BY customer_hk`,
  `CREATE TABLE IF NOT EXISTS marts.dim_time (
    time_hk String, invoice_date DateTime('UTC'), day Date, year UInt16, month UInt8, day_of_month UInt8,
    day_of_week UInt8, hour UInt8, updated_at DateTime64(3, 'UTC')
  ) ${rmt('updated_at')} ORDER BY time_hk`,
  `CREATE TABLE IF NOT EXISTS marts.dim_country (
    country_hk String, country String, updated_at DateTime64(3, 'UTC')
  ) ${rmt('updated_at')} ORDER BY country_hk`,
  ...['fact_sales', 'fact_sale_returns'].map(
    (t) => `CREATE TABLE IF NOT EXISTS marts.${t} (
      day Date, line_hk String, invoice_no String, invoice_date DateTime('UTC'),
      product_hk String, stock_code String, customer_hk String, customer_id UInt32,
      time_hk String, country_hk String, country String,
      quantity Int32, unit_price Float64, line_total Float64
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (invoice_no, line_hk)`,
  ),

  `CREATE TABLE IF NOT EXISTS quality.data_quality (
    day Date, lines UInt64, missing_customer_id_ratio Float64,
    anomaly_unit_price_count UInt64, anomaly_quantity_count UInt64
  ) ENGINE = MergeTree PARTITION BY day ORDER BY day`,
  `CREATE TABLE IF NOT EXISTS quality.sales_summary (
    day Date, fact_lines UInt64, min_total Float64, max_total Float64,
    median_total Float64, avg_total Float64, volume Float64
  ) ENGINE = MergeTree PARTITION BY day ORDER BY day`,
  `CREATE TABLE IF NOT EXISTS quality.line_issues (
    day Date, line_hk String, issue LowCardinality(String), invoice_no_raw String, stock_code String,
    quantity Int32, unit_price Float64, customer_id Nullable(UInt32)
  ) ENGINE = MergeTree PARTITION BY day ORDER BY (issue, line_hk)`,
];
