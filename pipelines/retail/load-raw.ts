import { csvRecords, noData, nonRetryable, replacePartitions, resolveSources, type CsvWarning } from 'sluice';
import type { RetailContext } from './retail-pipeline.ts';
import { countingLines } from './line-count.ts';

const SAME_FILE = 'the source file is the same on every attempt';
import { COLUMNS, RAW_TSV_COLUMNS, parseRetailRow, tsvSuffix } from './parse-row.ts';
import { addReconciliation, checkReconciliation, emptyReconciliation } from './reconcile.ts';

const QUARANTINE_BATCH = 1000;
const CHUNK_BYTES = 1 << 20;
/** quality.quarantine keeps enough of a line to recognise it, not all of a runaway record. */
const RAW_TEXT_MAX = 4096;

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
 * raw.online_retail, quarantines what cannot be read or parsed (file, line, text, reason),
 * checks that every line of every file is accounted for, then swaps the loaded days in.
 * A partitioned run keeps only its day's rows; the others count as other partitions.
 */
export async function loadRaw(ctx: RetailContext): Promise<void> {
  const wh = ctx.warehouse;
  const files = await resolveSources(ctx.params.source, {
    extension: '.csv', objects: ctx.objects, policy: ctx.sources, cachePrefix: 'raw_data/retail', signal: ctx.signal,
  });
  const only = ctx.partition?.key ?? null;
  const csv = { maxRecordBytes: ctx.params.maxRecordBytes, maxRecordLines: ctx.params.maxRecordLines, invalidUtf8: ctx.params.invalidUtf8 };
  const total = emptyReconciliation();
  const warnings = { invalidUtf8: 0, noFinalNewline: 0 };
  let firstReplaced: string | null = null;
  let good = 0;
  let seen = 0;
  let quarantined = 0;
  // A failure raised inside the TSV stream reaches us through the warehouse adapter, which may wrap it.
  let failure: Error | null = null;
  const fail = (err: Error) => (failure = err);
  const bad: BadRow[] = [];
  const flushBad = async () => {
    if (bad.length === 0) return;
    await wh.insertRows('quality.quarantine', bad.splice(0));
  };
  const quarantine = async (row: Omit<BadRow, 'pipeline' | 'run_id'>) => {
    quarantined += 1;
    const max = ctx.params.maxBadRows;
    if (max !== undefined && quarantined > max) {
      throw fail(nonRetryable(
        `more than ${max} malformed rows (maxBadRows); last: ${row.source_file} line ${row.line_no}: ${row.reason}`,
        'the same rows are malformed on every attempt',
      ));
    }
    const cut = row.raw_text.length > RAW_TEXT_MAX;
    bad.push({
      pipeline: ctx.pipeline, run_id: ctx.runId, ...row,
      raw_text: cut ? row.raw_text.slice(0, RAW_TEXT_MAX) : row.raw_text,
      reason: cut ? `${row.reason} (raw text cut to ${RAW_TEXT_MAX} of ${row.raw_text.length} characters)` : row.reason,
    });
    if (bad.length >= QUARANTINE_BATCH) await flushBad();
  };
  const warn = (file: string, ws: readonly CsvWarning[]) => {
    for (const w of ws) {
      if (w.kind === 'no_final_newline') {
        warnings.noFinalNewline += 1;
        ctx.log.warn(`${file}: ${w.message}`);
      } else {
        warnings.invalidUtf8 += 1;
        firstReplaced ??= `${file}: ${w.message}`;
      }
    }
  };

  async function* tsv(): AsyncGenerator<string> {
    let chunk = '';
    for (const file of files) {
      const r = emptyReconciliation();
      const stats = { blankLines: 0 };
      const counted = countingLines(await file.open());
      for await (const rec of csvRecords(counted.stream, { ...csv, stats })) {
        if (ctx.signal.aborted) throw new Error('load aborted');
        r.continuationLines += rec.lines - 1;
        if (rec.warnings) warn(file.name, rec.warnings);
        if (r.headerLines === 0) {
          r.headerLines = 1;
          const header = rec.fields.map((f) => f.trim());
          if (header.join(',') !== COLUMNS.join(',')) {
            throw fail(nonRetryable(`${file.name} line ${rec.line}: header is "${rec.raw}"${rec.error ? ` (${rec.error})` : ''}, expected "${COLUMNS.join(',')}"`, SAME_FILE));
          }
          continue;
        }
        seen += 1;
        if (rec.error !== undefined) {
          r.quarantined += 1;
          await quarantine({ source_file: file.name, line_no: rec.line, raw_text: rec.raw, reason: rec.error });
          continue;
        }
        const row = parseRetailRow(rec.fields, tsvSuffix(file.name, rec.line, ctx.runId));
        if (only !== null && row.day !== null && row.day !== only) {
          r.otherPartitions += 1;
          continue;
        }
        if (!row.ok) {
          r.quarantined += 1;
          await quarantine({ source_file: file.name, line_no: rec.line, raw_text: rec.raw, reason: row.reason });
          continue;
        }
        r.loaded += 1;
        good += 1;
        chunk += row.tsv;
        if (chunk.length >= CHUNK_BYTES) {
          yield chunk;
          chunk = '';
          ctx.progress(seen, { message: `${good} rows loaded, ${quarantined} quarantined` });
        }
      }
      r.linesRead = counted.lines();
      r.blankLines = stats.blankLines;
      if (r.headerLines === 0) throw fail(nonRetryable(`${file.name} is empty: no header line and no data lines`, SAME_FILE));
      if (r.loaded + r.quarantined + r.otherPartitions === 0) {
        throw fail(nonRetryable(`${file.name} has only a header line and no data lines`, SAME_FILE));
      }
      checkReconciliation(file.name, r);
      addReconciliation(total, r);
    }
    if (chunk.length > 0) yield chunk;
  }

  const days = await replacePartitions(wh, {
    table: 'raw.online_retail',
    column: 'day',
    days: only === null ? [] : [only],
    writer: ctx,
    fill: async (tmp) => {
      try {
        await wh.insertTsv(tmp, RAW_TSV_COLUMNS, tsv());
      } catch (err) {
        throw failure ?? err;
      }
      // Loaded means in the table: count what arrived before anything is swapped in.
      const [{ n }] = await wh.query<{ n: number | string }>(`SELECT count() AS n FROM ${tmp}`);
      if (Number(n) !== good) {
        throw new Error(`${good} rows were sent to the warehouse but ${n} arrived in ${tmp}`);
      }
    },
  });
  await flushBad();
  ctx.progress(seen, { total: seen, message: `${good} rows loaded, ${quarantined} quarantined` });
  if (quarantined > 0) ctx.log.warn(`${quarantined} malformed rows went to quality.quarantine`);
  if (warnings.invalidUtf8 > 0) {
    ctx.log.warn(`${warnings.invalidUtf8} lines had invalid UTF-8 replaced with U+FFFD (invalidUtf8=replace); first: ${firstReplaced}`);
  }
  ctx.materialize('raw.online_retail', {
    rows: good,
    metadata: { files: files.length, days: days.size, quarantined, source: ctx.params.source, inputs: files.map((f) => f.describe()), reconciliation: total, warnings },
  });
  ctx.materialize('quality.quarantine', { rows: quarantined });
  // Not one line of the source is of this day, not even a malformed one: the shop was
  // closed. Rows that were all quarantined are a fault instead, and raw_not_empty says so.
  if (only !== null && good === 0 && quarantined === 0 && ctx.params.emptyDay === 'no-data') {
    const others = total.otherPartitions.toLocaleString('en-US');
    throw noData(`no rows for ${only} in ${ctx.params.source} (${files.length} files, ${others} rows of other days)`);
  }
}
