import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { formatCsv, formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';

export function registerQuery(program: Command, globals: () => GlobalOptions): void {
  program
    .command('query <sql>')
    .description('run SQL against the warehouse')
    .option('--format <format>', 'json | csv | table', 'table')
    .action(async (sql: string, o: { format: string }) => {
      if (!['json', 'csv', 'table'].includes(o.format)) {
        throw new ValidationError(`--format must be json, csv or table, got "${o.format}"`, 'format');
      }
      const rows = await viaServerOr(
        globals(),
        async (api) => (await api.call<{ rows: Record<string, unknown>[] }>('POST', '/api/v1/query', { sql })).rows,
        async (rt) => (await rt.query.run(sql)).rows,
      );
      if (o.format === 'json') print(JSON.stringify(rows));
      else if (o.format === 'csv') print(formatCsv(rows));
      else print(formatTable(rows));
    });
}
