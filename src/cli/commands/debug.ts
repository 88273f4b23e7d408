import type { Command } from 'commander';
import { SluiceError, TimeoutError } from '../../core/errors.ts';
import type { RunRecord } from '../../ports/metadata-store.ts';
import { ApiClient } from '../api-client.ts';
import { clientEnv, loadConfig } from '../../presets/config.ts';
import { print, type GlobalOptions } from '../context.ts';
import { formatTable } from '../format-table.ts';
import { checkRunId } from '../run-id.ts';
import { readServerFile } from '../server-file.ts';

interface StreamView {
  stream: string; state: string; lag: number; runId: string | null; replicas: number;
  counters: Record<string, number>; rates: Record<string, number>;
}

function api(globals: GlobalOptions): ApiClient {
  const home = loadConfig({ env: process.env, cwd: process.cwd(), home: globals.home }).home;
  const env = clientEnv(process.env);
  const server = env.url ? { url: env.url } : readServerFile(home);
  if (!server) throw new SluiceError('not_found', `no server owns ${home}; start one with sluice dev (or set SLUICE_URL)`);
  return new ApiClient(server, env.token);
}

export function registerDebug(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ping')
    .description('send ping to the workers on the control topic and print who answers, with round-trip times')
    .option('--worker <id>', 'only this worker')
    .option('--wait <ms>', 'how long to collect answers', '1000')
    .option('--json', 'JSON output')
    .action(async (o: { worker?: string; wait: string; json?: boolean }) => {
      const r = await api(globals()).call<{ pongs: { workerId: string; rttMs: number; running: string[] }[] }>('POST', '/api/v1/workers/ping', {
        workerId: o.worker, waitMs: Number(o.wait),
      });
      if (o.json) print(JSON.stringify(r.pongs, null, 2));
      else if (r.pongs.length === 0) print('no worker answered');
      else print(formatTable(r.pongs.map((p) => ({ worker: p.workerId, rtt_ms: p.rttMs, running: p.running.length }))));
      if (r.pongs.length === 0) process.exitCode = 1;
    });

  program
    .command('streams')
    .description('stream steps: state, replicas, lag, records written, dead letters and throughput')
    .option('--pipeline <name>', 'only this pipeline\'s')
    .option('--json', 'JSON output')
    .action(async (o: { pipeline?: string; json?: boolean }) => {
      const q = o.pipeline === undefined ? '' : `?pipeline=${encodeURIComponent(o.pipeline)}`;
      const r = await api(globals()).call<{ items: StreamView[] }>('GET', `/api/v1/streams${q}`);
      if (o.json) return print(JSON.stringify(r.items, null, 2));
      if (r.items.length === 0) return print('no stream steps');
      print(formatTable(r.items.map((s) => ({
        stream: s.stream, state: s.state, replicas: s.replicas, lag: s.lag, records_out: s.counters.records_out ?? 0, dead_letters: s.counters.dead_letters ?? 0,
        'out/s': Math.round(s.rates.records_out ?? 0), run: s.runId ?? '-',
      }))));
    });

  program
    .command('stop <run>')
    .description('stop a run (its workers get stop/cancel) and wait until it has ended')
    .option('--timeout <s>', 'give up waiting after this many seconds', '60')
    .action(async (runId: string, o: { timeout: string }) => {
      checkRunId(runId);
      const client = api(globals());
      await client.call<RunRecord>('POST', `/api/v1/runs/${runId}/cancel`);
      const deadline = Date.now() + Number(o.timeout) * 1000;
      for (;;) {
        const d = await client.run(runId);
        if (d.run.finishedAt) {
          print(`run ${runId} ${d.run.status}`);
          return;
        }
        if (Date.now() > deadline) throw new TimeoutError(`run ${runId} still ${d.run.status} after ${o.timeout} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });
}
