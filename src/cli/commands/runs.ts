import type { Command } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../core/states.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import type { RunRecord } from '../../ports/metadata-store.ts';

/**
 * A filter on a pipeline nobody knows is a typo, not an empty history: it fails naming
 * the known ones. A pipeline that was removed but still has runs stays listable.
 */
function checkPipeline(name: string | undefined, known: readonly string[], runs: readonly RunRecord[]): void {
  if (name === undefined || runs.length > 0 || known.includes(name)) return;
  throw new NotFoundError('pipeline', `${name} (known: ${[...known].sort().join(', ') || 'none'})`);
}

export function registerRuns(program: Command, globals: () => GlobalOptions): void {
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
          const items = (await api.call<{ items: RunRecord[] }>('GET', `/api/v1/runs?${qs}`)).items;
          if (o.pipeline !== undefined && items.length === 0) {
            checkPipeline(o.pipeline, (await api.call<{ items: { name: string }[] }>('GET', '/api/v1/pipelines')).items.map((p) => p.name), items);
          }
          return items;
        },
        async (rt) => {
          const items = await rt.services.metadata.runs.list(filter);
          checkPipeline(o.pipeline, rt.registry.list().map((p) => p.name), items);
          return items;
        },
      );
      if (o.json) print(JSON.stringify(runs, null, 2));
      else print(formatTable(runs.map((r) => ({ ...r, params: undefined })), ['id', 'pipeline', 'partition', 'status', 'createdAt', 'finishedAt', 'parentRunId', 'error']));
    });
}
