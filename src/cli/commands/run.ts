import type { Command } from 'commander';
import type { RunDetail } from '../../ports/metadata-store.ts';
import type { Runtime } from '../../presets/runtime.ts';
import { parseParamFlags } from '../parse-params.ts';
import { printSummary } from '../print-summary.ts';
import { ProgressView } from '../progress.ts';
import { summarizeRun, type RunSummary } from '../run-summary.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import { runRemote } from '../remote-run.ts';
import { runOk } from '../status-text.ts';

/** The partition overrides `sluice run` passes on as they are (API: the same fields on POST /runs). */
export interface RunFlags {
  readonly allPartitions?: boolean;
  readonly allowOutOfRange?: boolean;
}

/** Runs a pipeline to the end in this process and returns its summary. */
export function runOnce(
  rt: Runtime,
  req: RunFlags & { pipeline: string; partition?: string; params: Record<string, unknown> },
  live: ProgressView | null,
): Promise<RunSummary> {
  return followLocal(rt, () => rt.coordinator.submit(req), live);
}

/**
 * Starts a run in this process (a new one, a retry), shows it live and returns its summary.
 * Ctrl-C (or SIGTERM) stops the run as `sluice stop` does — a stream flushes, commits and
 * returns, and its run succeeds — and a second one leaves at once.
 */
export async function followLocal(rt: Runtime, start: () => Promise<{ run: { id: string }; done: Promise<RunDetail> }>, live: ProgressView | null): Promise<RunSummary> {
  const off = live ? rt.coordinator.onUpdate(live.update) : () => undefined;
  let runId: string | null = null;
  let interrupted = false;
  let stop = (_id: string) => undefined as void;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stop = (id) => {
      process.stderr.write(`${signal}: stopping run ${id} (again to quit at once)\n`);
      void rt.coordinator.cancel(id, `interrupted (${signal})`).catch(() => process.exit(130));
    };
    // Before the run exists (stores still opening), it is stopped as soon as it does.
    if (runId !== null) stop(runId);
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  try {
    const { run, done } = await start();
    runId = run.id;
    if (interrupted) stop(run.id);
    const detail = await done;
    const history = await rt.services.metadata.assets.history({ runId: detail.run.id, limit: 1000 });
    return summarizeRun(detail, history.materializations, history.checks);
  } finally {
    off();
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
  }
}

export function registerRun(program: Command, globals: () => GlobalOptions): void {
  program
    .command('run <pipeline>')
    .description('run a pipeline once, in this process; exit 0 when it succeeded or its partition had no data, 1 when it failed')
    .option('--partition <key>', 'partition key, e.g. 2010-12-01 (a partitioned pipeline needs one, or --all-partitions)')
    .option('--all-partitions', 'one run over every partition the source has, instead of one key')
    .option('--allow-out-of-range', 'run a key before the first partition, after the last, or after the current open one')
    .option('--param <k=v>', 'pipeline param (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON summary instead of live progress')
    .action(async (pipeline: string, o: RunFlags & { partition?: string; param: string[]; json?: boolean }) => {
      const params = parseParamFlags(o.param);
      const verbose = Boolean(globals().verbose);
      const live = o.json ? null : new ProgressView(process.stderr, '', { verbose });
      const req = { pipeline, partition: o.partition, params, ...flagsOf(o) };
      const summary = await viaServerOr(globals(), (api) => runRemote(api, req, live), (rt) => runOnce(rt, req, live));
      if (o.json) print(JSON.stringify(summary, null, 2));
      else printSummary(summary);
      process.exitCode = runOk(summary.status) ? 0 : 1;
    });
}

/** Only the flags given, so a request to the API carries no `false` it did not ask for. */
export function flagsOf(o: RunFlags): RunFlags {
  return { ...(o.allPartitions ? { allPartitions: true } : {}), ...(o.allowOutOfRange ? { allowOutOfRange: true } : {}) };
}
