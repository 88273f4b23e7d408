import { isAbsolute, relative } from 'node:path';
import type { AttemptFailure } from '../ports/metadata-store.ts';

/** A stored `path:line:column` as a person in this directory would type it. */
export function framePath(frame: string): string {
  if (!isAbsolute(frame)) return frame;
  const rel = relative(process.cwd(), frame);
  return rel.startsWith('..') || isAbsolute(rel) ? frame : rel;
}

/**
 * Where a failure happened, indented under the line that names it: the pipeline's own
 * line always (`at pipelines/orders.ts:12:7`), the whole stack with --verbose.
 */
export function failureWhere(f: Pick<AttemptFailure, 'frame' | 'stack'>, verbose: boolean, indent = '    '): string[] {
  if (verbose && f.stack) return f.stack.split('\n').map((l) => `${indent}${l.trimStart().startsWith('at ') ? '  ' : ''}${l.trim()}`);
  return f.frame ? [`${indent}at ${framePath(f.frame)}`] : [];
}
