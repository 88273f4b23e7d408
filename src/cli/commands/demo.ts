import type { Command } from 'commander';
import type { RunRecord } from '../../ports/metadata-store.ts';
import { DEMO_PIPELINE, DEMO_SUMMARY_SQL, demoDays } from '../../presets/demo-data.ts';
import type { Runtime } from '../../presets/runtime.ts';
import type { ApiClient } from '../api-client.ts';
import { ProgressView } from '../progress.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import { followRun, runRemote } from '../remote-run.ts';
import { runOnce } from './run.ts';

/** What the demo needs, the same whether the stores are in this process or behind a server. */
interface DemoStores {
  /** Where the sample goes, as the user knows it. */
  readonly where: string;
  loaded(): Promise<boolean>;
  /** A retail run or backfill already loading the sample (`sluice dev` starts one on a fresh state directory), to wait for. */
  inFlight(): Promise<{ what: string; wait(live: ProgressView): Promise<string> } | null>;
  load(live: ProgressView): Promise<string>;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

function local(rt: Runtime): DemoStores {
  const wh = rt.services.warehouse;
  return {
    where: rt.config.home,
    loaded: async () => (await demoDays(wh)) > 0,
    // Nothing else can be loading: this process holds the stores.
    inFlight: async () => null,
    load: async (live) => (await runOnce(rt, { pipeline: DEMO_PIPELINE, params: {}, allPartitions: true }, live)).status,
    query: (sql) => wh.query(sql),
  };
}

function remote(api: ApiClient): DemoStores {
  const query = async (sql: string) => (await api.call<{ rows: Record<string, unknown>[] }>('POST', '/api/v1/query', { sql })).rows;
  return {
    where: `the server at ${api.url}`,
    // The query endpoint refuses a table that does not exist yet: that is "not loaded" too.
    loaded: () => query('SELECT count() AS n FROM quality.sales_summary').then((rows) => Number(rows[0]?.n) > 0, () => false),
    inFlight: async () => {
      for (const status of ['running', 'queued']) {
        const { items } = await api.call<{ items: RunRecord[] }>('GET', `/api/v1/runs?pipeline=retail&status=${status}&limit=1`);
        const run = items[0];
        if (run?.backfillId) {
          const id = run.backfillId;
          return { what: `backfill ${id}`, wait: () => waitBackfill(api, id) };
        }
        if (run) return { what: `run ${run.id}`, wait: async (live: ProgressView) => (await followRun(api, run.id, live)).status };
      }
      return null;
    },
    load: async (live) => (await runRemote(api, { pipeline: DEMO_PIPELINE, params: {}, allPartitions: true }, live)).status,
    query,
  };
}

const BACKFILL_POLL_MS = 500;
const BACKFILL_WAIT_MS = 15 * 60_000;

/** Polls a backfill until every run of it has ended; its final status (running past the limit is an error). */
async function waitBackfill(api: ApiClient, id: string): Promise<string> {
  for (const until = Date.now() + BACKFILL_WAIT_MS; Date.now() < until; ) {
    const b = await api.call<{ status: string }>('GET', `/api/v1/backfills/${encodeURIComponent(id)}`);
    if (b.status !== 'running') return b.status;
    await new Promise((r) => setTimeout(r, BACKFILL_POLL_MS));
  }
  throw new Error(`backfill ${id} was still running after ${BACKFILL_WAIT_MS / 60_000} min`);
}

async function demo(stores: DemoStores): Promise<void> {
  const live = new ProgressView(process.stdout);
  if (await stores.loaded()) {
    print(`The warehouse of ${stores.where} already holds the retail sample (sluice run retail --all-partitions reloads it).`);
  } else {
    const inFlight = await stores.inFlight();
    if (inFlight) {
      print(`The retail sample is loading on ${stores.where} (${inFlight.what}); waiting for it …`);
      await inFlight.wait(live);
    }
    if (!inFlight || !(await stores.loaded())) {
      print(`Loading the retail sample into ${stores.where} …`);
      if ((await stores.load(live)) !== 'succeeded') {
        process.exitCode = 1;
        return;
      }
    }
  }
  print(`\nquality.data_quality ⋈ quality.sales_summary\n${formatTable(await stores.query(DEMO_SUMMARY_SQL))}`);
  print(`\nNext: npx sluice query "SELECT country, round(sum(line_total)) AS revenue FROM marts.fact_sales GROUP BY country ORDER BY revenue DESC LIMIT 5"`);
  print('      npx sluice runs · npx sluice metrics · npx sluice run retail --partition 2010-12-01');
}

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('load the bundled retail sample (once) and show what landed in the warehouse; beside a server, through it')
    .action(async () => {
      await viaServerOr(globals(), (api) => demo(remote(api)), (rt) => demo(local(rt)));
    });
}
