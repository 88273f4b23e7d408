import { ValidationError } from '../core/errors.ts';

/** Keys that reach an object's prototype when code copies or merges a request object. */
const UNSAFE = new Set(['__proto__', 'constructor']);

/**
 * Refuses, anywhere in a request value, what must never reach the handlers or the stores:
 * `__proto__` and `constructor` keys, as the unknown fields they are (`JSON.parse` keeps
 * them as own keys, a record schema would drop `__proto__` silently and a later spread act
 * on it), and NUL characters, which PostgreSQL refuses in text and jsonb (a 500 otherwise).
 */
export function refuseUnsafeInput(value: unknown, where: string): void {
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string' && v.includes('\u0000')) throw new ValidationError(`${path}: must not contain NUL characters`, path);
    if (typeof v !== 'object' || v === null) continue;
    for (const key of Object.keys(v)) {
      const at = `${path}.${key}`;
      if (UNSAFE.has(key)) throw new ValidationError(`${at}: unknown field: ${key}`, at);
      if (key.includes('\u0000')) throw new ValidationError(`${path}: field names must not contain NUL characters`, path);
      stack.push([(v as Record<string, unknown>)[key], at]);
    }
  }
}
