import type { CheckDef } from './check.ts';

export interface AssetDef<P = Record<string, unknown>> {
  /** Unique across pipelines, e.g. `raw.online_retail` or `s3://bucket/prefix`. */
  readonly name: string;
  readonly description?: string;
  readonly checks: readonly CheckDef<P>[];
}

/**
 * Declares a data product that a step produces, with its quality checks.
 *
 * @example
 * const raw = asset({ name: 'raw.online_retail', description: 'rows as loaded', checks: [notEmpty] });
 */
export function asset<P = Record<string, unknown>>(options: {
  name: string;
  description?: string;
  checks?: readonly CheckDef<P>[];
}): AssetDef<P> {
  if (options.name.trim() === '') throw new TypeError('asset name must not be empty');
  const names = new Set<string>();
  for (const c of options.checks ?? []) {
    if (names.has(c.name)) throw new TypeError(`asset ${options.name} has two checks named "${c.name}"`);
    names.add(c.name);
  }
  return Object.freeze({ name: options.name, description: options.description, checks: Object.freeze([...(options.checks ?? [])]) });
}
