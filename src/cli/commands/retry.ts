import type { Command } from 'commander';
import { printSummary } from '../print-summary.ts';
import { ProgressView } from '../progress.ts';
import { followRun } from '../remote-run.ts';
import { checkRunId } from '../run-id.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import { followLocal } from './run.ts';
import { runOk } from '../status-text.ts';

export function registerRetry(program: Command, globals: () => GlobalOptions): void {
  program
    .command('retry <run>')
    .description('re-execute a failed run from its failed steps as a new run (its parent); exit 0 when it succeeded, 1 when it failed')
    .option('--json', 'print one JSON summary instead of live progress')
    .action(async (runId: string, o: { json?: boolean }) => {
      checkRunId(runId);
      const verbose = Boolean(globals().verbose);
      const live = o.json ? null : new ProgressView(process.stderr, '', { verbose });
      const summary = await viaServerOr(
        globals(),
        async (api) => followRun(api, (await api.call<{ id: string }>('POST', `/api/v1/runs/${runId}/retry`)).id, live),
        (rt) => followLocal(rt, () => rt.coordinator.retry(runId), live),
      );
      if (o.json) print(JSON.stringify(summary, null, 2));
      else printSummary(summary);
      process.exitCode = runOk(summary.status) ? 0 : 1;
    });
}
