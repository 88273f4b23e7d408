import { ValidationError } from '../core/errors.ts';

/** Keys that reach an object's prototype when code copies or merges a request object. */
const UNSAFE = new Set(['__proto__', 'constructor']);

/**
 * Refuses `__proto__` and `constructor` keys anywhere in a request value, as the unknown
 * fields they are: `JSON.parse` keeps them as own keys, and a record schema would otherwise
 * drop `__proto__` silently (or a later spread would act on it).
 */
export function refuseUnsafeKeys(value: unknown, where: string): void {
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    for (const key of Object.keys(v)) {
      const at = `${path}.${key}`;
      if (UNSAFE.has(key)) throw new ValidationError(`${at}: unknown field: ${key}`, at);
      stack.push([(v as Record<string, unknown>)[key], at]);
    }
  }
}
