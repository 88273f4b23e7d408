import type { Command } from 'commander';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';

export function registerMetrics(program: Command, globals: () => GlobalOptions): void {
  program
    .command('metrics')
    .description('print the latest metric values in Prometheus text format')
    .action(async () => {
      const text = await viaServerOr(globals(), (api) => api.text('/metrics'), (rt) => rt.services.metrics.render());
      print(text.trimEnd());
    });
}
