import { ValidationError } from '../core/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Refuses what cannot be a run id before asking anyone, with what one looks like. */
export function checkRunId(value: string): void {
  if (!UUID.test(value)) {
    throw new ValidationError(`not a run id: "${value.slice(0, 100)}" (run ids are UUIDs such as 3f2b8c1e-…; sluice runs lists them)`, 'run');
  }
}
