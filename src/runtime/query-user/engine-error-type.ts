import { SluiceError } from '../../core/errors.ts';

/** The engine's error name (`ACCESS_DENIED`, …) behind a warehouse failure, or '' when it has none (the server is down). */
export function engineErrorType(err: unknown): string {
  const cause = err instanceof SluiceError ? err.cause : err;
  const type = (cause as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' ? type : '';
}
