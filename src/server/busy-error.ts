import { SluiceError } from '../core/errors.ts';

/**
 * The server will not take this request now, but may soon: 429 (`too_many_requests`) when
 * the caller holds too much, 503 (`unavailable`) when the server as a whole does. The
 * problem response carries `Retry-After`.
 */
export class BusyError extends SluiceError {
  override name = 'BusyError';
  readonly retryAfterSeconds: number;
  constructor(code: 'too_many_requests' | 'unavailable', message: string, retryAfterSeconds: number) {
    super(code, message, { retryable: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
