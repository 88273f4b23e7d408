import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { checkStores } from '../../presets/check-stores.ts';
import { loadConfig } from '../../presets/config.ts';
import { formatTable } from '../format-table.ts';
import { print, type GlobalOptions } from '../context.ts';

export function registerCheck(program: Command, globals: () => GlobalOptions): void {
  program
    .command('check')
    .description('reach every store the configuration names (PostgreSQL, Kafka, ClickHouse, S3, the Kubernetes API) and say which one fails and why; exit 1 if any does')
    .option('--timeout <s>', 'how long each one may take to answer', '10')
    .option('--json', 'print the results as JSON')
    .action(async (o: { timeout: string; json?: boolean }) => {
      const seconds = Number(o.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) throw new ValidationError(`--timeout: ${o.timeout} is not a number of seconds between 0 and 300`, 'timeout');
      const g = globals();
      const config = loadConfig({ env: process.env, cwd: process.cwd(), home: g.home, pipelines: g.pipelines, logLevel: g.verbose ? 'debug' : undefined });
      const results = await checkStores(config, { timeoutMs: Math.round(seconds * 1000) });
      const failed = results.filter((r) => !r.ok);
      if (o.json) print(JSON.stringify(results));
      else {
        print(formatTable(results.map((r) => ({ check: r.check, target: r.target, result: r.ok ? 'ok' : 'FAILED', ms: r.ms, detail: r.detail }))));
        print(failed.length === 0 ? `all ${results.length} reachable` : `${failed.length} of ${results.length} failed: ${failed.map((r) => r.check).join(', ')}`);
      }
      if (failed.length > 0) process.exitCode = 1;
    });
}
