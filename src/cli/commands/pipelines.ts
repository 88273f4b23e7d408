import type { Command } from 'commander';
import { relative } from 'node:path';
import type { AnyPipeline, BrokenPipeline, PipelineRegistry } from '../../runtime/pipeline-registry.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';

/** The shape `GET /api/v1/pipelines` lists a pipeline in. */
interface PipelineSummary {
  name: string;
  file: string | null;
  description: string;
  steps: string[];
  partitions: { granularity: string; start: string; end: string | null } | null;
  schedules: { name: string; cron: string; timezone: string }[];
}

interface Listing {
  items: PipelineSummary[];
  broken: BrokenPipeline[];
}

const summaryOf = (registry: PipelineRegistry, p: AnyPipeline): PipelineSummary => ({
  name: p.name,
  file: registry.originOf(p.name) ?? null,
  description: p.description,
  steps: [...p.order],
  partitions: p.partitions ? { granularity: p.partitions.granularity, start: p.partitions.start, end: p.partitions.end ?? null } : null,
  schedules: p.schedules.map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone })),
});

/** A path as the user typed it, when it is under the working directory. */
const shown = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

const where = (b: BrokenPipeline): string => `${shown(b.file)}${b.line === null ? '' : `:${b.line}${b.column === null ? '' : `:${b.column}`}`}`;

export function registerPipelines(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pipelines')
    .description('list the pipelines Sluice found, and the files that did not load')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { items, broken } = await viaServerOr<Listing>(
        globals(),
        (api) => api.call<Listing>('GET', '/api/v1/pipelines'),
        async (rt) => ({ items: rt.registry.list().map((p) => summaryOf(rt.registry, p)), broken: [...rt.registry.broken()] }),
      );
      const rows = items.map((p) => ({
        name: p.name,
        file: p.file === null ? '' : shown(p.file),
        steps: p.steps.join(' → '),
        partitions: p.partitions ? `${p.partitions.granularity} from ${p.partitions.start}${p.partitions.end ? ` to ${p.partitions.end}` : ''}` : '',
        schedules: p.schedules.map((s) => `${s.cron} ${s.timezone}`).join(', '),
        description: p.description,
      }));
      if (o.json) {
        print(JSON.stringify({ pipelines: rows, broken: broken.map((b) => ({ ...b, file: shown(b.file) })) }, null, 2));
        return;
      }
      print(formatTable(rows, ['name', 'partitions', 'steps', 'description']));
      if (broken.length > 0) {
        print(`\nBroken pipelines (${broken.length}): these files did not load; the others run.`);
        for (const b of broken) print(`  ${where(b)}\n    ${b.error}`);
        process.exitCode = 1;
      }
    });
}
