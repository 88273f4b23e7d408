import type { Command } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../core/states.ts';
import { ValidationError } from '../../core/errors.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, withRuntime, type GlobalOptions } from '../context.ts';
import type { RunRecord } from '../../ports/metadata-store.ts';

export function registerInspect(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pipelines')
    .description('list the pipelines Sluice found')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const rows = await withRuntime(globals(), async (rt) =>
        rt.registry.list().map((p) => ({
          name: p.name,
          steps: p.order.join(' → '),
          partitions: p.partitions ? `${p.partitions.granularity} from ${p.partitions.start}` : '',
          schedules: p.schedules.map((s) => `${s.cron} ${s.timezone}`).join(', '),
          description: p.description,
          file: rt.registry.originOf(p.name),
        })),
      );
      print(o.json ? JSON.stringify(rows, null, 2) : formatTable(rows, ['name', 'partitions', 'steps', 'description']));
    });

  program
    .command('runs')
    .description('list recent runs, newest first')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--status <status>', `only this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'JSON output')
    .action(async (o: { pipeline?: string; status?: string; limit: string; json?: boolean }) => {
      if (o.status !== undefined && !RUN_STATUSES.includes(o.status as RunStatus)) {
        throw new ValidationError(`--status must be one of ${RUN_STATUSES.join(', ')}`, 'status');
      }
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('--limit must be 1 to 1000', 'limit');
      const filter = { pipeline: o.pipeline, status: o.status as RunStatus | undefined, limit };
      const runs = await viaServerOr(
        globals(),
        async (api) => {
          const qs = new URLSearchParams(Object.entries({ ...filter, limit: String(Math.min(limit, 200)) }).filter(([, v]) => v !== undefined) as [string, string][]);
          return (await api.call<{ items: RunRecord[] }>('GET', `/api/v1/runs?${qs}`)).items;
        },
        (rt) => rt.services.metadata.listRuns(filter),
      );
      if (o.json) print(JSON.stringify(runs, null, 2));
      else print(formatTable(runs.map((r) => ({ ...r, params: undefined })), ['id', 'pipeline', 'partition', 'status', 'createdAt', 'finishedAt', 'error']));
    });

  program
    .command('metrics')
    .description('print the latest metric values in Prometheus text format')
    .action(async () => {
      print(await withRuntime(globals(), (rt) => rt.services.metrics.render()));
    });
}
