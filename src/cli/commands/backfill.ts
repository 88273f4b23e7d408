import type { Command } from 'commander';
import { backfillCounts, runBackfill } from '../../runtime/backfill.ts';
import { parseParamFlags } from '../parse-params.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import type { ApiClient } from '../api-client.ts';
import type { BackfillStatus } from '../../server/backfill-manager.ts';
import { isTerminalRun } from '../../core/states.ts';
import { statusText } from '../status-text.ts';

export function registerBackfill(program: Command, globals: () => GlobalOptions): void {
  program
    .command('backfill <pipeline>')
    .description('one run per partition from --from to --to (inclusive); exit 0 when every run succeeded or had no data, 1 otherwise')
    .requiredOption('--from <key>', 'first partition key')
    .requiredOption('--to <key>', 'last partition key')
    .option('--concurrency <n>', 'runs at once', '1')
    .option('--allow-out-of-range', 'let the range reach before the first partition, past the last or past the current open one')
    .option('--param <k=v>', 'pipeline param (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON summary')
    .action(async (pipeline: string, o: { from: string; to: string; concurrency: string; allowOutOfRange?: boolean; param: string[]; json?: boolean }) => {
      const req = { pipeline, from: o.from, to: o.to, concurrency: Number(o.concurrency), params: parseParamFlags(o.param), ...(o.allowOutOfRange ? { allowOutOfRange: true } : {}) };
      const report = (p: string, status: string, error: string | null) => {
        if (!o.json) process.stderr.write(`${p}: ${statusText(status)}${error ? ` (${error})` : ''}\n`);
      };
      const result = await viaServerOr(
        globals(),
        (api) => remoteBackfill(api, req, report),
        async (rt) => {
          const r = await runBackfill(rt.coordinator, rt.registry, req, (p, d) => report(p, d.run.status, d.run.error));
          const partitions = r.partitions.map(({ partition, detail }) => ({ partition, status: detail.run.status, runId: detail.run.id, error: detail.run.error }));
          return { backfillId: r.backfillId, partitions };
        },
      );
      const rows = result.partitions;
      const { succeeded, noData, failed } = backfillCounts(rows.map((r) => r.status));
      if (o.json) print(JSON.stringify({ backfillId: result.backfillId, succeeded, noData, failed, partitions: rows }, null, 2));
      else print(`${formatTable(rows, ['partition', 'status', 'runId', 'error'])}\n${succeeded} succeeded, ${noData > 0 ? `${noData} no data, ` : ''}${failed} failed`);
      process.exitCode = failed === 0 ? 0 : 1;
    });
}

/** Starts the backfill on the server and polls it to the end, reporting partitions as they finish. */
async function remoteBackfill(
  api: ApiClient,
  req: { pipeline: string; from: string; to: string; concurrency: number; params: Record<string, string>; allowOutOfRange?: boolean },
  report: (partition: string, status: string, error: string | null) => void,
): Promise<{ backfillId: string; partitions: { partition: string; status: string; runId: string | null; error: string | null }[] }> {
  let s = await api.call<BackfillStatus>('POST', '/api/v1/backfills', req);
  const seen = new Set<string>();
  for (;;) {
    for (const p of s.partitions) {
      if (p.status !== 'pending' && isTerminalRun(p.status) && !seen.has(p.partition)) {
        seen.add(p.partition);
        report(p.partition, p.status, p.error);
      }
    }
    if (s.status !== 'running') return { backfillId: s.id, partitions: s.partitions };
    await new Promise((r) => setTimeout(r, 250));
    s = await api.call<BackfillStatus>('GET', `/api/v1/backfills/${s.id}`);
  }
}
