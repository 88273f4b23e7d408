import type { PartitionWindow } from '../core/partitions.ts';
import type { CheckDef } from './check.ts';

export interface AssetDef<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null, N extends string = string> {
  /** Unique across pipelines, e.g. `raw.online_retail` or `s3://bucket/prefix`. */
  readonly name: N;
  readonly description?: string;
  readonly checks: readonly CheckDef<P, W>[];
}

export interface AssetOptions<P, W extends PartitionWindow | null, N extends string> {
  name: N;
  description?: string;
  checks?: readonly CheckDef<P, W>[];
}

/**
 * Declares a data product that a step produces, with its quality checks. Inside a pipeline,
 * prefer `myPipeline.asset(...)`, whose checks see the pipeline's params.
 *
 * @example
 * const raw = asset({ name: 'raw.online_retail', description: 'rows as loaded', checks: [notEmpty] });
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
  return Object.freeze({ name: options.name, description: options.description, checks: Object.freeze([...(options.checks ?? [])]) });
}
