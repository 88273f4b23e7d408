import { ValidationError } from '../core/errors.ts';

/** `--param k=v` flags into an object; the pipeline's schema does the typing. */
export function parseParamFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--param expects key=value, got "${f}"`, 'param');
    out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}
