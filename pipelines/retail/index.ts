import { FACT_TABLES } from './facts.ts';
import { DIMENSIONS, buildMarts } from './marts.ts';
import type { RetailParams } from './params.ts';
import { buildQuality } from './quality.ts';
import { loadRaw } from './load-raw.ts';
import { retail } from './retail-pipeline.ts';
import { runDays } from './run-days.ts';
import { RETAIL_DDL } from './schema.ts';
import { buildStaging } from './staging.ts';
import { VAULT_TABLES, loadVault } from './vault.ts';

const rawNotEmpty = retail.check({
  name: 'raw_not_empty',
  severity: 'error',
  description: 'the load wrote at least one row for the partition (or run)',
  async evaluate(ctx) {
    const where = ctx.partition ? 'day = {day:Date}' : 'run_id = {run:String}';
    const [r] = await ctx.warehouse.query<{ n: number }>(`SELECT count() AS n FROM raw.online_retail WHERE ${where}`, {
      day: ctx.partition?.key, run: ctx.runId,
    });
    const n = Number(r.n);
    return { passed: n > 0, value: n, message: n > 0 ? `${n} rows` : 'no rows loaded' };
  },
});

/** A warn check: the worst day of the run must stay within a threshold param. */
const dayThreshold = (name: string, column: string, limit: (p: RetailParams) => number) =>
  retail.check({
    name,
    severity: 'warn',
    async evaluate(ctx) {
      const days = await runDays(ctx);
      const [r] = await ctx.warehouse.query<{ v: number | null; worst_day: string }>(
        `SELECT max(${column}) AS v, toString(argMax(day, ${column})) AS worst_day FROM quality.data_quality WHERE day IN {days:Array(Date)}`,
        { days },
      );
      const v = Number(r?.v ?? 0);
      const max = limit(ctx.params);
      return { passed: v <= max, value: v, message: `worst day ${r?.worst_day}: ${column} = ${v} (limit ${max})` };
    },
  });

// One asset per warehouse table; deps are the tables its statements read, so the lineage
// graph is the real one (quality.quarantine is fed by the source files, and feeds nothing).
export const rawAsset = retail.asset({ name: 'raw.online_retail', description: 'every parsable row as given', checks: [rawNotEmpty], deps: [] });
const quarantineAsset = retail.asset({ name: 'quality.quarantine', description: 'rows that could not be parsed, with the reason', kind: 'quarantine', deps: [] });
const stagingAsset = retail.asset({ name: 'staging.online_retail', description: 'cleaned lines with their line keys', deps: [rawAsset] });
const vaultKinds: Record<string, string> = { hub: 'hub of business keys', link: 'link between hubs', sat: 'satellite of attributes' };
const vaultAssets = VAULT_TABLES.map((t) =>
  retail.asset({ name: t.table, description: vaultKinds[t.table.slice('vault.'.length).split('_')[0]], deps: [stagingAsset] }));
const martAssets = [
  ...DIMENSIONS.map((d) => retail.asset({ name: d.table, description: 'dimension', deps: d.deps })),
  ...FACT_TABLES.map((f) => retail.asset({ name: f.table, description: 'fact, per day', deps: f.deps })),
];

const schema = retail.step({
  name: 'schema',
  description: 'creates the databases and tables (idempotent)',
  retry: { maxAttempts: 3, backoffMs: 500 },
  async run(ctx) {
    for (const ddl of RETAIL_DDL) await ctx.warehouse.command(ddl);
  },
});

const raw = retail.step({
  name: 'raw',
  deps: [schema],
  description: 'streams the CSV source into raw.online_retail; malformed rows to quality.quarantine',
  assets: [rawAsset, quarantineAsset],
  retry: { maxAttempts: 3, backoffMs: 1000 },
  timeoutMs: 30 * 60_000,
  run: loadRaw,
});

const staging = retail.step({
  name: 'staging',
  deps: [raw],
  assets: [stagingAsset],
  retry: { maxAttempts: 3, backoffMs: 1000 },
  run: buildStaging,
});

const vault = retail.step({
  name: 'vault',
  deps: [staging],
  assets: vaultAssets,
  retry: { maxAttempts: 3, backoffMs: 1000 },
  run: loadVault,
});

const marts = retail.step({
  name: 'marts',
  deps: [vault],
  assets: martAssets,
  retry: { maxAttempts: 3, backoffMs: 1000 },
  run: buildMarts,
});

const quality = retail.step({
  name: 'quality',
  deps: [marts],
  assets: [
    retail.asset({
      name: 'quality.data_quality',
      description: 'per day: lines, missing customers, anomalies',
      kind: 'quality',
      deps: [stagingAsset],
      checks: [
        dayThreshold('missing_customer_id_ratio', 'missing_customer_id_ratio', (p) => p.maxMissingCustomerRatio),
        dayThreshold('anomaly_unit_price_count', 'anomaly_unit_price_count', (p) => p.maxUnitPriceAnomalies),
        dayThreshold('anomaly_quantity_count', 'anomaly_quantity_count', (p) => p.maxQuantityAnomalies),
      ],
    }),
    retail.asset({ name: 'quality.sales_summary', description: 'per day: the sales facts summed up', kind: 'quality', deps: [stagingAsset, 'marts.fact_sales'] }),
    retail.asset({ name: 'quality.line_issues', description: 'the staged lines with a quality issue, one row per issue', deps: [stagingAsset] }),
  ],
  retry: { maxAttempts: 3, backoffMs: 1000 },
  run: buildQuality,
});

export default retail.build({ steps: [schema, raw, staging, vault, marts, quality] });
