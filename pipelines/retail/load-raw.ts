import { SluiceError, csvRecords, replacePartitions, resolveSources, type StepContext } from 'sluice';
import { COLUMNS, RAW_TSV_COLUMNS, parseRetailRow, tsvSuffix } from './parse-row.ts';
import type { RetailParams } from './params.ts';

const QUARANTINE_BATCH = 1000;
const CHUNK_BYTES = 1 << 20;

type BadRow = {
  pipeline: string;
  source_file: string;
  line_no: number;
  raw_text: string;
  reason: string;
  run_id: string;
};

/**
 * Streams every source file through the row parser into a staging copy of
 * raw.online_retail, quarantines what cannot be parsed (file, line, text, reason), then
 * swaps the loaded days in. A partitioned run keeps only its day's rows.
 */
export async function loadRaw(ctx: StepContext<RetailParams>): Promise<void> {
  const wh = ctx.warehouse;
  const files = await resolveSources(ctx.params.source, {
    extension: '.csv', objects: ctx.objects, policy: ctx.sources, cachePrefix: 'raw_data/retail', signal: ctx.signal,
  });
  const only = ctx.partition?.key ?? null;
  let good = 0;
  let seen = 0;
  let quarantined = 0;
  const bad: BadRow[] = [];
  const flushBad = async () => {
    if (bad.length === 0) return;
    await wh.insertRows('quality.quarantine', bad.splice(0));
  };
  const quarantine = async (row: Omit<BadRow, 'pipeline' | 'run_id'>) => {
    quarantined += 1;
    const max = ctx.params.maxBadRows;
    if (max !== undefined && quarantined > max) {
      throw new SluiceError(
        'too_many_bad_rows',
        `more than ${max} malformed rows (maxBadRows); last: ${row.source_file} line ${row.line_no}: ${row.reason}`,
      );
    }
    bad.push({ pipeline: ctx.pipeline, run_id: ctx.runId, ...row });
    if (bad.length >= QUARANTINE_BATCH) await flushBad();
  };

  async function* tsv(): AsyncGenerator<string> {
    let chunk = '';
    for (const file of files) {
      let headerSeen = false;
      for await (const rec of csvRecords(await file.open())) {
        if (ctx.signal.aborted) throw new Error('load aborted');
        if (!headerSeen) {
          headerSeen = true;
          const header = rec.fields.map((f) => f.trim());
          if (header.join(',') !== COLUMNS.join(',')) {
            throw new SluiceError('bad_header', `${file.name} line ${rec.line}: header is "${rec.raw}", expected "${COLUMNS.join(',')}"`);
          }
          continue;
        }
        seen += 1;
        const row = parseRetailRow(rec.fields, tsvSuffix(file.name, rec.line, ctx.runId));
        if (only !== null && row.day !== null && row.day !== only) continue;
        if (!row.ok) {
          await quarantine({ source_file: file.name, line_no: rec.line, raw_text: rec.raw, reason: row.reason });
          continue;
        }
        good += 1;
        chunk += row.tsv;
        if (chunk.length >= CHUNK_BYTES) {
          yield chunk;
          chunk = '';
          ctx.progress(seen, { message: `${good} rows loaded, ${quarantined} quarantined` });
        }
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  const days = await replacePartitions(wh, {
    table: 'raw.online_retail',
    column: 'day',
    days: only === null ? [] : [only],
    writer: ctx,
    fill: async (tmp) => {
      await wh.insertTsv(tmp, RAW_TSV_COLUMNS, tsv());
    },
  });
  await flushBad();
  ctx.progress(seen, { total: seen, message: `${good} rows loaded, ${quarantined} quarantined` });
  if (quarantined > 0) ctx.log.warn(`${quarantined} malformed rows went to quality.quarantine`);
  ctx.materialize('raw.online_retail', {
    rows: good,
    metadata: { files: files.length, days: days.size, quarantined, source: ctx.params.source, inputs: files.map((f) => f.describe()) },
  });
}
