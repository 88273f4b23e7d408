import { Command, CommanderError } from 'commander';
import { describeError, InternalError, SluiceError } from '../core/errors.ts';
import type { GlobalOptions } from './context.ts';
import { registerBackfill } from './commands/backfill.ts';
import { registerCheck } from './commands/check.ts';
import { registerDebug } from './commands/debug.ts';
import { registerDemo } from './commands/demo.ts';
import { registerMetrics } from './commands/metrics.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerPipelines } from './commands/pipelines.ts';
import { registerQuery } from './commands/query.ts';
import { registerReplay } from './commands/replay.ts';
import { registerRetry } from './commands/retry.ts';
import { registerRun } from './commands/run.ts';
import { registerRuns } from './commands/runs.ts';
import { registerServe } from './commands/serve.ts';
import { registerToken } from './commands/token.ts';
import { registerWorker } from './commands/worker.ts';

const program = new Command('sluice')
  .description('Sluice: data pipelines as TypeScript code')
  .option('--home <dir>', 'state directory (default ./.sluice, or SLUICE_HOME)')
  .option('--pipelines <dir>', 'extra pipelines directory (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--verbose', 'log debug output and show stack traces')
  .showHelpAfterError()
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
registerRun(program, globals);
registerRetry(program, globals);
registerBackfill(program, globals);
registerQuery(program, globals);
registerPipelines(program, globals);
registerRuns(program, globals);
registerMetrics(program, globals);
registerMigrate(program, globals);
registerCheck(program, globals);
registerDemo(program, globals);
registerDebug(program, globals);
registerServe(program, globals);
registerToken(program, globals);
registerWorker(program, globals);
registerReplay(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and --version exit 0; a usage error (unknown option, missing --to) is an error like any other.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const verbose = globals().verbose;
    // What is not a SluiceError was not expected anywhere: say so, rather than let it read
    // like a mistake of the user's.
    const e = err instanceof SluiceError ? err : new InternalError('the sluice command', err);
    process.stderr.write(`sluice: ${describeError(e)} [${e.code}]\n`);
    if (verbose && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 2;
  }
}

// The command is done. A store or client that failed half-open keeps handles that would hold
// the process forever; an unref'd timer fires only if something still does.
setTimeout(() => process.exit(), 1_000).unref();
