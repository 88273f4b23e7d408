import type { QueryLimits } from './query-policy.ts';

/**
 * The SETTINGS clause appended to every untrusted statement. A query-level clause holds
 * for that statement only (a `SET` would stick to chDB's shared session), and `readonly`
 * comes last so nothing after it could lift it. Result size breaks instead of failing, so
 * a big result comes back truncated with a flag; the byte cap is generous on the engine
 * side because the JSON the endpoint measures is larger than the engine's blocks.
 *
 * `sessionReadonly` is the connection's own `readonly`: a server's read-only user has
 * `readonly = 2` in its profile, which refuses any change of `readonly` (even to the
 * stricter 1), and already forbids every write; only a writable session gets `readonly = 1`.
 */
export function limitsSettings(limits: QueryLimits, sessionReadonly = 0): string {
  const spill = Math.floor(limits.maxMemoryBytes / 2);
  return [
    `max_execution_time = ${Math.max(1, Math.ceil(limits.timeoutMs / 1000))}`,
    `timeout_overflow_mode = 'throw'`,
    `max_result_rows = ${limits.maxRows + 1}`,
    `max_result_bytes = ${limits.maxBytes * 4}`,
    `result_overflow_mode = 'break'`,
    `max_memory_usage = ${limits.maxMemoryBytes}`,
    `max_bytes_before_external_group_by = ${spill}`,
    `max_bytes_before_external_sort = ${spill}`,
    ...(sessionReadonly > 0 ? [] : ['readonly = 1']),
  ].join(', ');
}
