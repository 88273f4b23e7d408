import { z } from 'zod';
import type { AnyRoute } from './route.ts';

/** A UUID's length: those parameters carry a format, not a maxLength. */
const UUID_LENGTH = 36;

/**
 * The longest path parameter any route's schema allows. The router refuses longer ones
 * before routing, so up to this length a parameter reaches its route's own schema and is
 * judged by the same maxLength the OpenAPI document shows.
 */
export function maxParamLength(routes: readonly AnyRoute[]): number {
  let max = UUID_LENGTH;
  for (const r of routes) {
    if (!r.params) continue;
    const s = z.toJSONSchema(r.params, { unrepresentable: 'any', io: 'input' }) as { properties?: Record<string, { maxLength?: number }> };
    for (const p of Object.values(s.properties ?? {})) max = Math.max(max, p.maxLength ?? UUID_LENGTH);
  }
  return max;
}
