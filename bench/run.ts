// `npm run bench`: every benchmark prints its figures and a ratio against a baseline
// measured in the same process. Not a test: nothing here passes or fails on time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/presets/config.ts';
import { openControlPlane, openRuntime, type Runtime } from '../src/presets/runtime.ts';
import { BENCH_PIPELINES, benchDispatch } from './dispatch.bench.ts';
import { benchKubernetes } from './kubernetes.bench.ts';
import { benchRetailLoad } from './retail-load.bench.ts';
import { benchRetailScale } from './retail-scale.bench.ts';
import { benchUi } from './ui.bench.ts';
import { benchConnector, benchHistory, benchKafkaTopics, benchLiveLoader } from './streams.bench.ts';

const fmt = (v: number | string) => (typeof v === 'string' ? v : Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(3));
const show = (r: Record<string, number | string>) => {
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(24)} ${fmt(v)}`);
};

const only = process.argv[2];

if (!only || only === 'retail') {
  console.log('retail raw load, 20 days (ours vs chDB INSERT … SELECT FROM file())');
  const r = await benchRetailLoad();
  show(r);
  console.log(`  => ratio ${r.ratio.toFixed(2)} (aim ≥ 0.5); heap peak ${r.x1_heap_mb.toFixed(1)} MB at 1× vs ${r.x5_heap_mb.toFixed(1)} MB at 5× input`);
}

if (!only || only === 'scale') {
  console.log('retail pipeline, `sluice run retail` in a child process, on 1×, 10× and 50× the sample (rows/s and peak RSS per step)');
  const copies = process.argv.slice(3).map(Number).filter((k) => Number.isInteger(k) && k > 0);
  await benchRetailScale(copies.length > 0 ? copies : undefined);
}

/** A service URL from scripts/<name>.sh, or undefined when it is not installed here. */
function service(name: string): string | undefined {
  try {
    return execFileSync('bash', [`scripts/${name}.sh`, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();
  } catch {
    return undefined;
  }
}

async function dispatch(label: string, env: Record<string, string>, open: (c: ReturnType<typeof loadConfig>) => Promise<Runtime>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const rt = await open(loadConfig({ env, cwd: process.cwd(), home, pipelines: [BENCH_PIPELINES], logLevel: 'warn' }));
  try {
    console.log(`dispatch overhead and no-op throughput: ${label}`);
    show(await benchDispatch(rt, label));
  } finally {
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (!only || only === 'dispatch') {
  await dispatch('in-process (sluice run)', {}, openRuntime);
  await dispatch('embedded control plane (PGlite, in-process bus, 2 worker processes)', {}, openControlPlane);
  const pg = service('postgres');
  const kafka = service('kafka');
  if (pg && kafka) {
    const schema = `bench_${Date.now()}`;
    await dispatch('PostgreSQL + Kafka control plane (2 worker processes)', {
      SLUICE_METADATA_URL: pg, SLUICE_METADATA_SCHEMA: schema, SLUICE_KAFKA_BROKERS: kafka, SLUICE_KAFKA_TOPIC_PREFIX: `${schema}.`,
    }, openControlPlane);
  } else {
    console.log('PostgreSQL + Kafka: skipped (run scripts/postgres.sh install and scripts/kafka.sh install)');
  }
}

if (!only || only === 'streams') {
  console.log('streams: the connector into chDB (klines, 2 × 161,280 rows; the engine\'s own INSERT … FORMAT JSONEachRow of the same file as baseline)');
  const chdb = await benchConnector('chDB', {}, undefined);
  show(chdb);
  console.log(`  => ratio ${Number(chdb.ratio).toFixed(2)} (aim ≥ 0.8, ≥ 200k rows/s); heap peak ${Number(chdb['heap peak MB at 1/4']).toFixed(1)} MB at 1/4 vs ${Number(chdb['heap peak MB at 1/1']).toFixed(1)} MB at all of it`);
  const ch = service('clickhouse');
  if (ch) {
    console.log('streams: the connector into the ClickHouse server (same rows; the client\'s JSONEachRow insert of the file as baseline)');
    const server = await benchConnector('ClickHouse server', { SLUICE_WAREHOUSE_URL: ch }, ch);
    show(server);
    console.log(`  => ratio ${Number(server.ratio).toFixed(2)} (aim ≥ 0.8)`);
  } else console.log('streams: ClickHouse server skipped (scripts/clickhouse.sh install)');
  const kafka = service('kafka');
  if (kafka) {
    console.log('streams: Kafka data topics, 1 KB records, acks=all (the client library\'s own producer and consumer as baseline)');
    const k = await benchKafkaTopics(kafka);
    show(k);
    console.log(`  => produce ${fmt(k['produce msg/s (ours)'] as number)} msg/s (aim ≥ 50k), consume ${fmt(k['consume msg/s (ours)'] as number)} msg/s (aim ≥ 100k)`);
  } else console.log('streams: Kafka skipped (scripts/kafka.sh install)');
  for (const broker of kafka ? [undefined, kafka] : [undefined]) {
    console.log(`streams: the live loader on a local WebSocket flood of recorded depth diffs and trades, into ${broker ? 'Kafka' : 'the in-process topics'} (parsing alone as baseline)`);
    for (const rate of [undefined, 50_000]) {
      const live = await benchLiveLoader(broker, rate);
      show(live);
      console.log(`  => ${fmt(live['loader msg/s'] as number)} msg/s (aim ≥ 50k), p99 receive → ack ${Number(live['p99 receive → ack ms']).toFixed(1)} ms (aim < 50)`);
    }
  }
  console.log('streams: market-history, 4 symbols × February 2026, against the replay server at the default weight budget (2,400 a minute)');
  show(await benchHistory());
  console.log('streams: the same with a budget the loader is bound by (240 per 10 s window)');
  const tight = await benchHistory({ weightLimit: 240, weightWindowS: 10 });
  show(tight);
  console.log(`  => ${Number(tight['budget used %']).toFixed(0)}% of the budget used (aim ≥ 80), ${tight['429 responses']} × 429, ${tight['418 responses']} × 418`);
}

if (!only || only === 'ui') {
  const home = mkdtempSync(join(tmpdir(), 'sluice-bench-ui-'));
  const rt = await openControlPlane(loadConfig({ env: {}, cwd: process.cwd(), home, pipelines: [BENCH_PIPELINES], logLevel: 'warn' }));
  try {
    console.log('web UI in Chromium: /runs over 10,000 runs, a 200-step run page with 20,000 log lines, dispatch with and without that page open');
    const r = await benchUi(rt);
    show(r);
    console.log(`  => /runs first row ${Number(r.runs_first_row_median_ms).toFixed(0)} ms (aim ≤ 300); long tasks over 100 ms: ${r.run_page_long_tasks_over_100ms} (aim 0); dispatch with a tab ${Number(r.ratio_dispatch_with_vs_without_tab).toFixed(2)}× (aim ≈ 1)`);
  } finally {
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (only === 'kubernetes') {
  console.log('Kubernetes launcher (real API server, pod runner, Kafka): launch latency next to warm workers, a burst of 200 attempts');
  const r = await benchKubernetes();
  show(r);
  console.log(`  => launch p50 ${Number(r.k8s_launch_p50_ms).toFixed(0)} ms as a Job vs ${Number(r.warm_launch_p50_ms).toFixed(0)} ms warm (${Number(r.ratio_k8s_vs_warm_p50).toFixed(1)}×); ${Number(r.burst_api_requests_per_attempt).toFixed(2)} API requests per attempt (no polling)`);
}
