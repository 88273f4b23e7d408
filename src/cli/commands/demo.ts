import type { Command } from 'commander';
import { ProgressView } from '../progress.ts';
import { formatTable } from '../format-table.ts';
import { print, withRuntime, type GlobalOptions } from '../context.ts';
import { runOnce } from './run.ts';

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('load the bundled retail sample (once) and show what landed in the warehouse')
    .action(async () => {
      await withRuntime(globals(), async (rt) => {
        const wh = rt.services.warehouse;
        const [loaded] = await wh.query<{ n: number }>(
          "SELECT count() AS n FROM system.tables WHERE database = 'quality' AND name = 'sales_summary' AND total_rows > 0",
        );
        if (Number(loaded.n) === 0) {
          print(`Loading the retail sample into ${rt.config.home} …`);
          const s = await runOnce(rt, { pipeline: 'retail', params: {} }, new ProgressView(process.stdout));
          if (s.status !== 'succeeded') {
            process.exitCode = 1;
            return;
          }
        } else {
          print(`The warehouse in ${rt.config.home} already holds the retail sample (sluice run retail reloads it).`);
        }
        const rows = await wh.query(
          `SELECT toString(q.day) AS day, q.lines, round(q.missing_customer_id_ratio, 4) AS missing_cust_ratio,
                  q.anomaly_unit_price_count AS bad_price, s.fact_lines, s.min_total, s.max_total,
                  round(s.median_total, 2) AS median_total, round(s.volume, 2) AS volume
           FROM quality.data_quality AS q JOIN quality.sales_summary AS s USING day ORDER BY day`,
        );
        print(`\nquality.data_quality ⋈ quality.sales_summary\n${formatTable(rows)}`);
        print(`\nNext: npx sluice query "SELECT country, round(sum(line_total)) AS revenue FROM marts.fact_sales GROUP BY country ORDER BY revenue DESC LIMIT 5"`);
        print('      npx sluice runs · npx sluice metrics · npx sluice run retail --partition 2010-12-01');
      });
    });
}
