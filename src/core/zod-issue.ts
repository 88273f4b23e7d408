import type { z } from 'zod';

/**
 * The first problem zod found, as the field it is about (dotted path, with `where` in front,
 * or the unknown keys) and a message. One reading of zod errors for params, config and API
 * requests alike.
 */
export function firstIssue(err: z.ZodError, where = ''): { field: string; message: string } {
  const issue = err.issues[0];
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const at = (rest: string) => [where, rest].filter(Boolean).join('.');
  if (keys.length > 0) return { field: at(keys.join(', ')), message: `unknown field${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}` };
  return { field: at(issue.path.map(String).join('.')), message: issue.message };
}
