import type { PartitionWindow } from '../core/partitions.ts';
import type { Severity } from '../core/states.ts';
import type { StepContext } from './context.ts';

export interface CheckOutcome {
  readonly passed: boolean;
  /** The measured value, when there is one (a count, a ratio); shown with the result everywhere. */
  readonly value?: number | null;
  readonly message?: string;
}

export interface CheckDef<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  readonly name: string;
  readonly severity: Severity;
  readonly description?: string;
  evaluate(ctx: StepContext<P, W>): Promise<CheckOutcome>;
}

export interface CheckOptions<P, W extends PartitionWindow | null = PartitionWindow | null> {
  name: string;
  /** `error` blocks every downstream step when the check fails; `warn` only reports. */
  severity?: Severity;
  description?: string;
  evaluate(ctx: StepContext<P, W>): Promise<CheckOutcome> | CheckOutcome;
}

/**
 * Declares a quality check on an asset, evaluated after the step that produces the asset,
 * for the run's partition. Inside a pipeline, prefer `myPipeline.check(...)`, whose `ctx`
 * is typed from the pipeline's declaration.
 *
 * @example
 * const notEmpty = check({
 *   name: 'not_empty',
 *   severity: 'error',
 *   async evaluate(ctx) {
 *     const [r] = await ctx.warehouse.query<{ n: string }>('SELECT count() AS n FROM raw.events');
 *     return { passed: Number(r.n) > 0, value: Number(r.n) };
 *   },
 * });
 */
export function check<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null>(
  options: CheckOptions<P, W>,
): CheckDef<P, W> {
  if (!/^[a-z][a-z0-9_]*$/.test(options.name)) {
    throw new TypeError(`check name "${options.name}" must be snake_case (a-z, 0-9, _)`);
  }
  const evaluate = options.evaluate;
  return Object.freeze({
    name: options.name,
    severity: options.severity ?? 'error',
    description: options.description,
    evaluate: async (ctx: StepContext<P, W>) => evaluate(ctx),
  });
}
