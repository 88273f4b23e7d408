// The whole retail pipeline, as `sluice run` runs it, on 1×, 10× and 50× the sample:
// rows/s and peak resident memory (the process tree) per step. Memory must stay flat as
// the input grows; each scaled run must also count exactly k × the 1× rows, so a broken
// run cannot pass for a fast one.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgliteMetadataStore } from '../src/adapters/pglite/pglite-metadata-store.ts';
import type { RunSummary } from '../src/cli/run-summary.ts';
import { SAMPLE_SOURCE } from '../pipelines/retail/params.ts';
import { loadConfig } from '../src/presets/config.ts';
import { peakBetween, sampleTreeRss, type RssSample } from './process-tree-rss.ts';
import { checkScaledFile, writeScaledInput, type ScaledInput } from './scale-input.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const RUN_TIMEOUT_MS = 60 * 60_000;
const MB = 2 ** 20;
/**
 * The bound the figures must stay within. `sluice run` starts at up to ~1.3 GB (Node and
 * the sources it loads, PGlite, chDB's 566 MB library), then holds ~0.8 GB between
 * statements, plus the engine's metadata of every part (~15 KB each, ~15 parts a day): it
 * grows with the days in the warehouse, not with rows. Statements add at most
 * statementMemoryBytes, one at a time.
 */
const START_MB = 1400;
const IDLE_MB = 800;
const PER_DAY_MB = 0.25;
const boundMb = (statementMb: number, days: number) => Math.max(START_MB, IDLE_MB + statementMb + PER_DAY_MB * days);

/** Rows that must be exactly k × the 1× figure, and (products, customers) that must not change. */
const COUNTS_SQL = `SELECT
  (SELECT count() FROM raw.online_retail) AS raw,
  (SELECT count() FROM staging.online_retail) AS staged,
  (SELECT count() FROM vault.hub_invoice) AS hub_invoice,
  (SELECT count() FROM vault.sat_invoice_line) AS sat_invoice_line,
  (SELECT count() FROM marts.fact_sales) AS fact_sales,
  (SELECT count() FROM marts.fact_sale_returns) AS fact_sale_returns,
  (SELECT count() FROM quality.line_issues) AS line_issues,
  (SELECT count() FROM quality.data_quality) AS data_quality_days,
  (SELECT count() FROM vault.hub_product) AS products,
  (SELECT count() FROM vault.hub_customer) AS customers`;
const SAME_AT_ANY_SCALE = new Set(['products', 'customers']);

export interface StepFigures {
  readonly step: string;
  readonly seconds: number;
  readonly rowsPerS: number;
  readonly peakRssMb: number;
}

export interface ScaleResult {
  readonly copies: number;
  readonly days: number;
  readonly rows: number;
  readonly inputMb: number;
  readonly totalS: number;
  /** The whole child process, its start (module loading, the engine's start-up) included. */
  readonly peakRssMb: number;
  /** While the run's steps ran. */
  readonly stepsPeakRssMb: number;
  readonly steps: StepFigures[];
  readonly counts: Record<string, number>;
}

const childEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  ...(process.env.SLUICE_STATEMENT_MEMORY_BYTES ? { SLUICE_STATEMENT_MEMORY_BYTES: process.env.SLUICE_STATEMENT_MEMORY_BYTES } : {}),
});

function cli(home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(NODE, ['src/cli/main.ts', '--home', home, ...args], { cwd: ROOT, env: childEnv(), maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`sluice ${args[0]} failed: ${stderr || err.message}`)) : resolve(stdout));
  });
}

/** The run's own error when it printed a summary. */
function failureOf(stdout: string): string | undefined {
  try {
    return (JSON.parse(stdout) as RunSummary).error ?? undefined;
  } catch {
    return undefined;
  }
}

/** `sluice run retail` in a child process, its tree's RSS sampled every 100 ms. */
function runSampled(home: string, source: string): Promise<{ summary: RunSummary; samples: RssSample[]; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(NODE, ['src/cli/main.ts', '--home', home, 'run', 'retail', '--all-partitions', '--param', `source=${source}`, '--json'], {
      cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sampler = sampleTreeRss(child.pid!, 100);
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const samples = sampler.stop();
      if (code !== 0) return reject(new Error(`sluice run exited ${code ?? signal}: ${failureOf(stdout) ?? stderr.slice(-2000)}`));
      try {
        resolve({ summary: JSON.parse(stdout) as RunSummary, samples, wallMs: Date.now() - started });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** When each step ran, from the run's own metadata (the summary has durations only). */
async function stepWindows(home: string, runId: string): Promise<Map<string, [number, number]>> {
  const store = await createPgliteMetadataStore({ dataDir: join(home, 'metadata') });
  try {
    const detail = await store.runs.get(runId);
    const out = new Map<string, [number, number]>();
    for (const s of detail?.steps ?? []) {
      if (s.startedAt && s.finishedAt) out.set(s.step, [Date.parse(s.startedAt), Date.parse(s.finishedAt)]);
    }
    return out;
  } finally {
    await store.close();
  }
}

async function measure(input: ScaledInput, home: string): Promise<ScaleResult> {
  const { summary, samples, wallMs } = await runSampled(home, input.dir);
  if (summary.status !== 'succeeded') throw new Error(`run ${summary.runId} ${summary.status}: ${summary.error}`);
  const windows = await stepWindows(home, summary.runId);
  const [row] = JSON.parse(await cli(home, ['query', '--format', 'json', COUNTS_SQL])) as Record<string, unknown>[];
  const counts = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  const steps = summary.steps.map((s) => {
    const [from, to] = windows.get(s.name) ?? [0, 0];
    const seconds = (s.durationMs ?? 0) / 1000;
    return { step: s.name, seconds, rowsPerS: seconds > 0 ? input.rows / seconds : 0, peakRssMb: peakBetween(samples, from, to) / MB };
  });
  return {
    copies: input.copies,
    days: input.files,
    rows: input.rows,
    inputMb: input.bytes / MB,
    totalS: wallMs / 1000,
    peakRssMb: Math.max(0, ...samples.map((s) => s.bytes)) / MB,
    stepsPeakRssMb: Math.max(0, ...steps.map((s) => s.peakRssMb)),
    steps,
    counts,
  };
}

/** Every k-scaled count must be k × the 1× count; products and customers must not move. */
function checkCounts(base: ScaleResult, r: ScaleResult): void {
  for (const [k, v] of Object.entries(base.counts)) {
    const want = SAME_AT_ANY_SCALE.has(k) ? v : v * r.copies;
    if (r.counts[k] !== want) throw new Error(`${r.copies}×: ${k} = ${r.counts[k]}, expected ${want} (1×: ${v})`);
  }
}

export async function benchRetailScale(scales: readonly number[] = [1, 10, 50]): Promise<ScaleResult[]> {
  const statementMb = loadConfig({ env: process.env, cwd: ROOT, home: tmpdir() }).statementMemoryBytes / MB;
  console.log(`  statementMemoryBytes = ${n(statementMb)} MiB (${process.env.SLUICE_STATEMENT_MEMORY_BYTES ? 'SLUICE_STATEMENT_MEMORY_BYTES' : 'default'}); ` +
    `bound: peak RSS ≤ max(${n(START_MB)}, ${n(IDLE_MB)} + ${n(statementMb)} + ${PER_DAY_MB} × days) MB`);
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-scale-'));
  const results: ScaleResult[] = [];
  try {
    for (const copies of scales[0] === 1 ? scales : [1, ...scales]) {
      const dir = join(tmp, `x${copies}`);
      const home = join(tmp, `home-x${copies}`);
      mkdirSync(dir);
      const input = await writeScaledInput(SAMPLE_SOURCE, dir, copies);
      await checkScaledFile(join(dir, `${2010 + copies - 1}-12-01.csv`), `${2010 + copies - 1}-12-01`);
      const r = await measure(input, home);
      if (results.length > 0) checkCounts(results[0], r);
      results.push(r);
      printResult(r, results[0]);
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
    const [base, top] = [results[0], results.at(-1)!];
    const stepRates = top.steps.filter((s) => s.step !== 'schema').map((s) => {
      const b = base.steps.find((x) => x.step === s.step)!;
      return `${s.step} ${(s.rowsPerS / b.rowsPerS).toFixed(2)}`;
    });
    console.log(`  => ${top.copies}×/1×: peak RSS ${(top.peakRssMb / base.peakRssMb).toFixed(2)} (during the steps ${(top.stepsPeakRssMb / base.stepsPeakRssMb).toFixed(2)}), ` +
      `rows/s ${stepRates.join(', ')}; ` +
      results.map((r) => `${r.copies}× ${n(r.peakRssMb)} ${r.peakRssMb <= boundMb(statementMb, r.days) ? '≤' : 'OVER'} ${n(boundMb(statementMb, r.days))} MB`).join(', '));
    return results;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printResult(r: ScaleResult, base: ScaleResult): void {
  const ratio = (a: number, b: number) => (r === base ? '' : ` (${(a / b).toFixed(2)}× 1×)`);
  console.log(`  ${r.copies}×: ${n(r.days)} days, ${n(r.rows)} rows, ${n(r.inputMb, 1)} MB, ${n(r.totalS, 1)} s; peak RSS ${n(r.peakRssMb)} MB${ratio(r.peakRssMb, base.peakRssMb)}, ` +
    `during the steps ${n(r.stepsPeakRssMb)} MB${ratio(r.stepsPeakRssMb, base.stepsPeakRssMb)}${r === base ? '' : `; counts = ${r.copies} × 1×`}`);
  for (const s of r.steps) {
    const b = base.steps.find((x) => x.step === s.step);
    const ratio = r === base || !b || b.rowsPerS === 0 ? '' : `  rows/s ${(s.rowsPerS / b.rowsPerS).toFixed(2)}× 1×`;
    console.log(`    ${s.step.padEnd(8)} ${n(s.seconds, 2).padStart(8)} s ${n(s.rowsPerS).padStart(11)} rows/s  peak RSS ${n(s.peakRssMb).padStart(6)} MB${ratio}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const scales = process.argv.slice(2).map(Number);
  await benchRetailScale(scales.length > 0 ? scales : undefined);
}
