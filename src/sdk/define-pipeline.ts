import type { z } from 'zod';
import type { PartitionWindow, PartitionsDef } from '../core/partitions.ts';
import { asset, type AssetDef, type AssetOptions } from './asset.ts';
import { check, type CheckDef, type CheckOptions } from './check.ts';
import type { StepContext } from './context.ts';
import { pipeline, type PipelineDef, type ScheduleDef } from './pipeline.ts';
import { step, type StepDef, type StepOptions } from './step.ts';

/** What `ctx.partition` can be: a run without a key covers every partition, so never non-null. */
export type WindowOf<T> = T extends PartitionsDef ? PartitionWindow | null : null;

export interface PipelineDeclaration<S extends z.ZodType, T extends PartitionsDef | undefined> {
  name: string;
  description?: string;
  /** A zod schema for the params; defaults in the schema fill missing values. */
  params?: S;
  partitions?: T;
  schedules?: readonly (Partial<ScheduleDef> & { cron: string })[];
  concurrency?: number;
}

/** A pipeline declared but not yet built: its assets, checks and steps are typed from it. */
export interface PipelineBuilder<P, W extends PartitionWindow | null> {
  readonly name: string;
  /**
   * Type only (undefined at run time): the context every step and check of this pipeline
   * gets, for helpers in other files: `async function load(ctx: typeof orders.context)`.
   */
  readonly context: StepContext<P, W>;
  /** An asset of this pipeline; its checks see the pipeline's params and partition. */
  asset<const N extends string>(options: AssetOptions<P, W, N>): AssetDef<P, W, N>;
  /** A check whose `ctx` is typed from the pipeline's declaration. */
  check(options: CheckOptions<P, W>): CheckDef<P, W>;
  /** A step whose `ctx.params`/`ctx.partition` come from the declaration and whose `ctx.materialize` accepts only its own assets. */
  step<const A extends readonly AssetDef<P, W>[] = readonly []>(options: StepOptions<P, W, A>): StepDef<P, W>;
  /** The pipeline Sluice discovers (export it as the default export). */
  build(options: { steps: readonly StepDef<P, W>[] }): PipelineDef<P, W>;
}

/**
 * Declares a pipeline's params, partitions, schedules and concurrency once; the steps,
 * assets and checks made from what it returns are typed from that declaration, with no
 * generic to spell out. `build()` makes the pipeline.
 *
 * @example
 * import { z } from 'zod';
 * import { daily, definePipeline } from 'sluice';
 *
 * const hello = definePipeline({
 *   name: 'hello',
 *   params: z.object({ greeting: z.string().default('hi') }),
 *   partitions: daily({ start: '2024-01-01' }),
 * });
 * const out = hello.asset({ name: 'hello.out' });
 * const greet = hello.step({
 *   name: 'greet',
 *   assets: [out],
 *   run(ctx) {
 *     ctx.log.info(`${ctx.params.greeting} ${ctx.partition?.key ?? 'every day'}`);
 *     ctx.materialize(out, { rows: 1 });
 *   },
 * });
 * const bye = hello.step({ name: 'bye', deps: [greet], run: (ctx) => ctx.log.info('bye') });
 * export default hello.build({ steps: [greet, bye] });
 */
export function definePipeline<
  S extends z.ZodType = z.ZodObject<Record<string, never>>,
  T extends PartitionsDef | undefined = undefined,
>(declaration: PipelineDeclaration<S, T>): PipelineBuilder<z.output<S>, WindowOf<T>> {
  type P = z.output<S>;
  type W = WindowOf<T>;
  return Object.freeze({
    name: declaration.name,
    context: undefined as unknown as StepContext<P, W>,
    asset: <const N extends string>(options: AssetOptions<P, W, N>) => asset<P, W, N>(options),
    check: (options: CheckOptions<P, W>) => check<P, W>(options),
    step: <const A extends readonly AssetDef<P, W>[]>(options: StepOptions<P, W, A>) => step<P, W, A>(options),
    build: (options: { steps: readonly StepDef<P, W>[] }) =>
      pipeline<S>({ ...declaration, partitions: declaration.partitions ?? undefined, steps: options.steps }) as unknown as PipelineDef<P, W>,
  });
}
