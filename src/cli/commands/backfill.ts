import type { Command } from 'commander';
import { runBackfill } from '../../runtime/backfill.ts';
import { parseParamFlags } from '../parse-params.ts';
import { formatTable } from '../format-table.ts';
import { print, withRuntime, type GlobalOptions } from '../context.ts';

export function registerBackfill(program: Command, globals: () => GlobalOptions): void {
  program
    .command('backfill <pipeline>')
    .description('one run per partition from --from to --to (inclusive)')
    .requiredOption('--from <key>', 'first partition key')
    .requiredOption('--to <key>', 'last partition key')
    .option('--concurrency <n>', 'runs at once', '1')
    .option('--param <k=v>', 'pipeline param (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON summary')
    .action(async (pipeline: string, o: { from: string; to: string; concurrency: string; param: string[]; json?: boolean }) => {
      const result = await withRuntime(globals(), (rt) =>
        runBackfill(
          rt.coordinator,
          rt.registry,
          { pipeline, from: o.from, to: o.to, concurrency: Number(o.concurrency), params: parseParamFlags(o.param) },
          o.json ? undefined : (p, d) => process.stderr.write(`${p}: ${d.run.status}${d.run.error ? ` (${d.run.error})` : ''}\n`),
        ),
      );
      const rows = result.partitions.map(({ partition, detail }) => ({
        partition,
        status: detail.run.status,
        runId: detail.run.id,
        error: detail.run.error,
      }));
      const failed = rows.filter((r) => r.status !== 'succeeded').length;
      if (o.json) print(JSON.stringify({ backfillId: result.backfillId, succeeded: rows.length - failed, failed, partitions: rows }, null, 2));
      else print(`${formatTable(rows, ['partition', 'status', 'runId', 'error'])}\n${rows.length - failed} succeeded, ${failed} failed`);
      process.exitCode = failed === 0 ? 0 : 1;
    });
}
