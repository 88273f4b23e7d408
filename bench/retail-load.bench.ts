// Retail raw load: our streaming load (CSV reader → row validation → TSV → chDB's
// streaming insert, with quarantine and partition swap) next to chDB's own
// INSERT … SELECT FROM file() of the same files, in the same process.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChdbWarehouse } from '../src/adapters/chdb/chdb-warehouse.ts';
import { createLocalObjectStore } from '../src/adapters/local-fs/local-object-store.ts';
import { loadRaw } from '../pipelines/retail/load-raw.ts';
import { retailParams, SAMPLE_SOURCE } from '../pipelines/retail/params.ts';
import type { RetailContext } from '../pipelines/retail/retail-pipeline.ts';
import { RETAIL_DDL } from '../pipelines/retail/schema.ts';
import type { Warehouse } from '../src/ports/warehouse.ts';
import { createMemoryDataTopics } from '../src/adapters/memory-topics/memory-data-topics.ts';
import { loadConfig } from '../src/presets/config.ts';
import { sourcePolicyOf } from '../src/presets/source-policy.ts';

const ROUNDS = 5;
// The bench reads files it generates under a temp directory, as `sluice run` would.
const SOURCES = sourcePolicyOf(loadConfig({ env: {}, cwd: process.cwd(), home: tmpdir() }), 'trusted');

function ctxFor(wh: Warehouse, objects: ReturnType<typeof createLocalObjectStore>, source: string, runId: string): RetailContext {
  const noop = () => undefined;
  return {
    pipeline: 'retail', step: 'raw', runId, attemptId: runId, attempt: 1,
    params: retailParams.parse({ source }), partition: null, warehouse: wh, objects, topics: createMemoryDataTopics(), stream: null, sources: SOURCES,
    log: { debug: noop, info: noop, warn: noop, error: noop }, signal: new AbortController().signal,
    progress: noop, materialize: noop, gauge: noop,
  };
}

/** Peak RSS and heap growth while `fn` runs, sampled every 5 ms. */
async function peakMemory<T>(fn: () => Promise<T>): Promise<{ result: T; rssMb: number; heapMb: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const t = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss - base.rss);
    heap = Math.max(heap, m.heapUsed - base.heapUsed);
  }, 5);
  const result = await fn();
  clearInterval(t);
  return { result, rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchRetailLoad(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const wh = createChdbWarehouse({ path: join(dir, 'wh') });
  const objects = createLocalObjectStore({ root: join(dir, 'objects') });
  try {
    for (const ddl of RETAIL_DDL) await wh.command(ddl);
    await wh.command('CREATE TABLE raw.baseline AS raw.online_retail');
    const files = join(SAMPLE_SOURCE, '*.csv');
    const [{ n }] = await wh.query<{ n: number }>(`SELECT count() AS n FROM file('${files}', 'CSVWithNames')`);
    const rows = Number(n);
    const engine: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await wh.command('TRUNCATE TABLE raw.baseline');
      let t = performance.now();
      await wh.command(`
        INSERT INTO raw.baseline (day, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, source_file, line_no, run_id)
        SELECT toDate(InvoiceDate), InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country, _file, 0, 'bench'
        FROM file('${files}', 'CSVWithNames', 'InvoiceNo String, StockCode String, Description String, Quantity Int32, InvoiceDate DateTime, UnitPrice Float64, CustomerID String, Country String')
        SETTINGS max_partitions_per_insert_block = 0`);
      engine.push(performance.now() - t);
      t = performance.now();
      await loadRaw(ctxFor(wh, objects, SAMPLE_SOURCE, `bench${i}`));
      ours.push(performance.now() - t);
    }
    const [{ c }] = await wh.query<{ c: number }>('SELECT count() AS c FROM raw.online_retail');
    if (Number(c) !== rows) throw new Error(`our load wrote ${c} rows, expected ${rows}`);

    // Memory: the same load on 1× and 5× the input; flat means the peak does not grow with it.
    const big = join(dir, 'big');
    const body = readdirSync(SAMPLE_SOURCE).filter((f) => f.endsWith('.csv')).map((f) => readFileSync(join(SAMPLE_SOURCE, f), 'utf8').split('\n').slice(1).join('\n').trimEnd()).join('\n');
    const header = readFileSync(join(SAMPLE_SOURCE, '2010-12-01.csv'), 'utf8').split('\n')[0];
    const mem: Record<string, number> = {};
    for (const k of [1, 5]) {
      const src = join(big, `x${k}`);
      rmSync(src, { recursive: true, force: true });
      (await import('node:fs')).mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'all.csv'), `${header}\n${Array.from({ length: k }, () => body).join('\n')}\n`);
      const m = await peakMemory(() => loadRaw(ctxFor(wh, objects, src, `mem${k}`)));
      mem[`x${k}_heap_mb`] = m.heapMb;
      mem[`x${k}_rss_mb`] = m.rssMb;
    }
    const engineRate = rows / (median(engine) / 1000);
    const ourRate = rows / (median(ours) / 1000);
    return {
      rows,
      engine_ms: median(engine),
      ours_ms: median(ours),
      engine_rows_per_s: Math.round(engineRate),
      ours_rows_per_s: Math.round(ourRate),
      ratio: ourRate / engineRate,
      ...mem,
    };
  } finally {
    await wh.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await benchRetailLoad());
}
