import type { Command } from 'commander';
import type { AnyPipeline } from '../../runtime/pipeline-registry.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';

/** The shape `GET /api/v1/pipelines` lists a pipeline in. */
interface PipelineSummary {
  name: string;
  description: string;
  steps: string[];
  partitions: { granularity: string; start: string; end: string | null } | null;
  schedules: { name: string; cron: string; timezone: string }[];
}

const summaryOf = (p: AnyPipeline): PipelineSummary => ({
  name: p.name,
  description: p.description,
  steps: [...p.order],
  partitions: p.partitions ? { granularity: p.partitions.granularity, start: p.partitions.start, end: p.partitions.end ?? null } : null,
  schedules: p.schedules.map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone })),
});

export function registerPipelines(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pipelines')
    .description('list the pipelines Sluice found')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const list = await viaServerOr(
        globals(),
        async (api) => (await api.call<{ items: PipelineSummary[] }>('GET', '/api/v1/pipelines')).items,
        async (rt) => rt.registry.list().map(summaryOf),
      );
      const rows = list.map((p) => ({
        name: p.name,
        steps: p.steps.join(' → '),
        partitions: p.partitions ? `${p.partitions.granularity} from ${p.partitions.start}${p.partitions.end ? ` to ${p.partitions.end}` : ''}` : '',
        schedules: p.schedules.map((s) => `${s.cron} ${s.timezone}`).join(', '),
        description: p.description,
      }));
      print(o.json ? JSON.stringify(rows, null, 2) : formatTable(rows, ['name', 'partitions', 'steps', 'description']));
    });
}
