import { boundMessage } from '../core/errors.ts';
import type { CheckOutcome } from '../sdk/check.ts';

/**
 * What a check's result says wherever it is shown (CLI, API, events, history): the measured
 * value travels inside the message, so no reader can drop it (`FAILED — value 10000, …`).
 * A message that already states the value is kept as written.
 */
export function checkMessage(outcome: Pick<CheckOutcome, 'passed' | 'value' | 'message'>): string {
  const value = outcome.value ?? null;
  const text = outcome.message?.trim() ? outcome.message : null;
  if (value === null) return boundMessage(text ?? (outcome.passed ? 'passed' : 'failed'));
  if (text === null) return `value ${value}`;
  return boundMessage(states(text, value) ? text : `value ${value}, ${text}`);
}

/** `10 rows` states 10 but not 1. */
function states(text: string, value: number): boolean {
  const n = String(value).replace(/[.+]/g, '\\$&');
  return new RegExp(`(^|[^0-9.])${n}($|[^0-9]|\\.(?![0-9]))`).test(text);
}
