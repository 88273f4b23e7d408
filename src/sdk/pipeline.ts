import { z } from 'zod';
import { topoSort } from '../core/dag.ts';
import { ParamsError, ValidationError } from '../core/errors.ts';
import { describeParamIssue } from '../core/param-issue.ts';
import { firstIssue } from '../core/zod-issue.ts';
import { checkAssetDeps } from './lineage.ts';
import type { PartitionWindow, PartitionsDef } from '../core/partitions.ts';
import type { StepDef } from './step.ts';

export interface ScheduleDef {
  /** Unique within the pipeline. */
  readonly name: string;
  /** Five-field cron expression. */
  readonly cron: string;
  /** IANA time zone the cron is read in; UTC by default. */
  readonly timezone: string;
  /** For partitioned pipelines: which partition a tick runs (the one that just closed by default). */
  readonly partition: 'previous' | 'current';
}

export interface PipelineDef<P = Record<string, unknown>, W extends PartitionWindow | null = PartitionWindow | null> {
  readonly name: string;
  readonly description: string;
  readonly params: z.ZodType<P>;
  readonly partitions: PartitionsDef | null;
  readonly steps: readonly StepDef<P, W>[];
  /** Step names in an order that respects dependencies. */
  readonly order: readonly string[];
  readonly schedules: readonly ScheduleDef[];
  /** At most this many runs of this pipeline at once (null: only the global limit). */
  readonly concurrency: number | null;
}

export interface PipelineOptions<S extends z.ZodType> {
  name: string;
  description?: string;
  /** A zod schema for the params; defaults in the schema fill missing values. */
  params?: S;
  partitions?: PartitionsDef;
  steps: readonly StepDef<z.output<S>>[];
  schedules?: readonly (Partial<ScheduleDef> & { cron: string })[];
  concurrency?: number;
}

const NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * Declares a pipeline in one call: a DAG of steps with validated params, optional partitions,
 * schedules and a concurrency limit. Discovered by Sluice from `pipelines/<name>/index.ts`
 * (default export). Steps declared inline here see `ctx.params` typed only when spelled
 * `step<Params>`; `definePipeline()` types them from the declaration instead.
 *
 * @example
 * import { z } from 'zod';
 * import { pipeline, step, daily } from 'sluice';
 *
 * export default pipeline({
 *   name: 'hello',
 *   params: z.object({ greeting: z.string().default('hi') }),
 *   partitions: daily({ start: '2024-01-01' }),
 *   steps: [step({ name: 'greet', run: (ctx) => ctx.log.info(ctx.params.greeting) })],
 * });
 */
export function pipeline<S extends z.ZodType = z.ZodObject<Record<string, never>>>(
  options: PipelineOptions<S>,
): PipelineDef<z.output<S>> {
  if (!NAME.test(options.name)) {
    throw new ValidationError(`pipeline name "${options.name}" must be lower-case letters, digits, - or _`, 'name');
  }
  if (options.steps.length === 0) throw new ValidationError(`pipeline ${options.name} has no steps`, 'steps');
  checkDeps(options.name, options.steps);
  const order = topoSort(options.steps);
  checkAssetDeps(options.name, options.steps);
  const schedules = (options.schedules ?? []).map((s, i) =>
    Object.freeze({ name: s.name ?? `schedule-${i + 1}`, cron: s.cron, timezone: s.timezone ?? 'UTC', partition: s.partition ?? 'previous' }),
  );
  const params = (options.params ?? z.object({}).strict()) as unknown as z.ZodType<z.output<S>>;
  return Object.freeze({
    name: options.name,
    description: options.description ?? '',
    params,
    partitions: options.partitions ?? null,
    steps: Object.freeze([...options.steps]),
    order: Object.freeze(order),
    schedules: Object.freeze(schedules),
    concurrency: options.concurrency ?? null,
  });
}

/** A dep by name is only checked here, at load: say which step and where it was declared. */
function checkDeps(pipelineName: string, steps: readonly Pick<StepDef, 'name' | 'deps' | 'declaredAt'>[]): void {
  const names = new Set(steps.map((s) => s.name));
  for (const s of steps) {
    for (const d of s.deps) {
      if (names.has(d)) continue;
      const at = s.declaredAt ? ` (at ${s.declaredAt})` : '';
      throw new ValidationError(
        `pipeline ${pipelineName}: step "${s.name}" depends on unknown step "${d}"${at}; its steps are ${[...names].join(', ')}`,
        'deps',
      );
    }
  }
}

/**
 * Validates raw params (e.g. strings from `--param k=v`) against the pipeline's schema.
 * Throws a ParamsError (a ValidationError) that names the field and the value given.
 *
 * @example
 * const params = parseParams(retailPipeline, { maxBadRows: '10' }); // { maxBadRows: 10, … }
 */
export function parseParams<P>(def: PipelineDef<P>, raw: Record<string, unknown>): P {
  const r = def.params.safeParse(raw);
  if (r.success) return r.data;
  const { field: path, message } = firstIssue(r.error);
  const field = path || '(params)';
  const issue = r.error.issues[0];
  const why = issue.code === 'unrecognized_keys' ? message : describeParamIssue(issue, raw);
  throw new ParamsError(`pipeline ${def.name}: bad param ${field}: ${why}`, field, r.error);
}
