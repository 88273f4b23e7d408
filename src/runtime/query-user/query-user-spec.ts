import type { QueryLimits } from '../safe-query/query-policy.ts';

/** The read-only warehouse user the query endpoint connects as, and what it may do. */
export interface QueryUserSpec {
  readonly user: string;
  readonly password: string;
  /** Databases it reads whole: the standard five and those of the pipelines' assets. */
  readonly databases: readonly string[];
  /** Tables of `system` it reads (the endpoint's own allowlist). */
  readonly systemTables: readonly string[];
  readonly limits: QueryLimits;
}

/** A limit the user's profile sets and constrains to `MIN 1 MAX value`. */
export interface LimitMaximum {
  readonly setting: 'max_execution_time' | 'max_result_rows' | 'max_result_bytes' | 'max_memory_usage';
  readonly value: number;
}

/**
 * The highest value of each limit the endpoint sets on a statement (as `limitsSettings`
 * writes them), so the profile lets the endpoint run and nobody go past it. MIN 1 because
 * 0 means "no limit" to the engine.
 */
export function limitMaximums(limits: QueryLimits): LimitMaximum[] {
  return [
    { setting: 'max_execution_time', value: Math.max(1, Math.ceil(limits.timeoutMs / 1000)) },
    { setting: 'max_result_rows', value: limits.maxRows + 1 },
    { setting: 'max_result_bytes', value: limits.maxBytes * 4 },
    { setting: 'max_memory_usage', value: limits.maxMemoryBytes },
  ];
}

/** The settings profile is named after the user: one profile per query user. */
export const profileOf = (spec: QueryUserSpec): string => spec.user;
