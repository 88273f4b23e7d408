import { ValidationError } from '../core/errors.ts';

/**
 * The key rules every ObjectStore adapter applies, so a key that works on a laptop works
 * on S3 and back: relative, `/`-separated, no empty, `.` or `..` segments, no `\` or NUL.
 * S3 would accept most of these, but a local directory cannot represent them faithfully.
 */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new ValidationError('object key must not be empty', 'key');
  if (key.startsWith('/')) throw badKey(key, 'must be relative, not start with /');
  checkSegments(key, key.split('/'));
}

/** A list prefix: empty (everything), a key, a key ending in `/` (a folder) or a partial segment. */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  if (prefix.startsWith('/')) throw badKey(prefix, 'must be relative, not start with /');
  // A trailing `/` is how a prefix names a folder; everything before it must be a valid key.
  const segments = prefix.split('/');
  checkSegments(prefix, prefix.endsWith('/') ? segments.slice(0, -1) : segments);
}

export function badKey(key: string, why: string): ValidationError {
  return new ValidationError(`invalid object key "${key}": ${why}`, 'key');
}

function checkSegments(key: string, segments: readonly string[]): void {
  for (const segment of segments) {
    if (segment === '') throw badKey(key, 'has an empty path segment');
    if (segment === '.' || segment === '..') throw badKey(key, `has a "${segment}" segment`);
    if (segment.includes('\\') || segment.includes('\0')) throw badKey(key, 'contains \\ or NUL');
  }
}
