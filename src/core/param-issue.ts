import type { z } from 'zod';

const EXPECTED: Record<string, string> = {
  number: 'a number', int: 'an integer', bigint: 'an integer', string: 'a string', boolean: 'true or false',
  date: 'a date', array: 'a list', object: 'an object',
};

const MAX_SHOWN = 60;

/** How a person typed the value: `'high'` for a string, as is for anything else. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/**
 * One zod issue of a params object in the words of the value that was given: "expected a
 * number, got 'high'" rather than zod's "expected number, received NaN", which describes
 * what coercion made of the input, not the input.
 */
export function describeParamIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const got = `got ${shown(valueAt(input, issue.path))}`;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, ${got}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : (issue.inclusive ? '≤' : '<');
      const what = issue.origin === 'string' ? 'a length' : issue.origin === 'array' ? 'a list length' : 'a value';
      return `expected ${what} ${op} ${String(bound)}, ${got}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => shown(v)).join(', ')}, ${got}`;
    default:
      return `${issue.message}, ${got}`;
  }
}
