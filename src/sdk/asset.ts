import type { PartitionWindow } from '../core/partitions.ts';
import type { CheckDef } from './check.ts';
import type { AssetRef } from './context.ts';

export interface AssetDef<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null, N extends string = string> {
  /** Unique across pipelines, e.g. `raw.online_retail` or `s3://bucket/prefix`. */
  readonly name: N;
  readonly description?: string;
  readonly checks: readonly CheckDef<P, W>[];
  /**
   * The assets this one is made from (its upstreams in the lineage graph), or null when it
   * did not say: then every asset of the steps its step depends on is.
   */
  readonly deps: readonly string[] | null;
  readonly kind: AssetKind;
}

/**
 * What a table is for, so the UI knows how to show it: `data` (default) is a data product;
 * `quality` a table of figures per partition that /quality charts over its first Date
 * column; `quarantine` rows that could not be read, with the reason, browsed on /quality.
 */
export type AssetKind = 'data' | 'quality' | 'quarantine';

export interface AssetOptions<P, W extends PartitionWindow | null, N extends string> {
  name: N;
  description?: string;
  checks?: readonly CheckDef<P, W>[];
  /**
   * The assets of this pipeline this one is read from, by value or by name (checked when the
   * pipeline is built: each must be an asset of the same step or of a step it depends on).
   * Left out, its upstreams are all the assets of its step's deps; `[]` means none, e.g. for
   * a table fed only from outside the pipeline.
   */
  deps?: readonly (string | AssetRef)[];
  /** What the table is for: `data` (default), `quality` figures per partition, or `quarantine`. */
  kind?: AssetKind;
}

/**
 * Declares a data product that a step produces, with its quality checks and the assets it
 * is made from. Inside a pipeline, prefer `myPipeline.asset(...)`, whose checks see the
 * pipeline's params.
 *
 * @example
 * const raw = asset({ name: 'raw.online_retail', description: 'rows as loaded', checks: [notEmpty], deps: [] });
 * const staged = asset({ name: 'staging.online_retail', deps: [raw] });
 * const rejects = asset({ name: 'quality.quarantine', kind: 'quarantine', deps: [] });
 */
export function asset<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null, const N extends string = string>(
  options: AssetOptions<P, W, N>,
): AssetDef<P, W, N> {
  if (options.name.trim() === '') throw new TypeError('asset name must not be empty');
  const names = new Set<string>();
  for (const c of options.checks ?? []) {
    if (names.has(c.name)) throw new TypeError(`asset ${options.name} has two checks named "${c.name}"`);
    names.add(c.name);
  }
  const deps = options.deps === undefined ? null : Object.freeze(options.deps.map((d) => (typeof d === 'string' ? d : d.name)));
  if (deps?.includes(options.name)) throw new TypeError(`asset ${options.name} lists itself among its deps`);
  return Object.freeze({ name: options.name, description: options.description, checks: Object.freeze([...(options.checks ?? [])]), deps, kind: options.kind ?? 'data' });
}
