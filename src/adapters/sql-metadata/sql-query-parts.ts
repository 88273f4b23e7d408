import { ValidationError } from '../../core/errors.ts';

/** Collects bound values and hands back their placeholders, so no value enters SQL text. */
export function params(): { values: unknown[]; bind: (value: unknown) => string } {
  const values: unknown[] = [];
  return { values, bind: (value) => `$${values.push(value)}` };
}

export const where = (clauses: readonly string[]): string =>
  clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;

export function limitOf(limit: number | undefined, fallback: number | null): number | null {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(`limit must be a non-negative integer, got ${limit}`, 'limit');
  }
  return limit;
}

/** jsonb goes in as text so both drivers pass it through unchanged (pg would turn arrays into SQL arrays). */
export function json(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new ValidationError(`${what} is not JSON-serialisable`, what);
  return text;
}

// Keyset pagination compares createdAt as the port sees it; stored microseconds beyond
// the ISO string would make a cursor skip runs created in the same millisecond.
export const CREATED_AT = (p: string) => `date_trunc('milliseconds', COALESCE(${p}::timestamptz, now()))`;
