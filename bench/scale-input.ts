// Larger retail inputs made from the real day files: copy k of a day moves every
// InvoiceDate k years on and every InvoiceNo k × 1,000,000 up, so each copy is its own
// set of days, invoices and invoice lines, and a run on k copies must count k times the
// sample. Products, customers and countries stay the real ones.
import { once } from 'node:events';
import { createReadStream, createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { csvRecords } from '../src/sdk/csv-records.ts';
import { COLUMNS, parseRetailRow, tsvSuffix } from '../pipelines/retail/parse-row.ts';

const INVOICE = /^(C?)(\d+)$/;
const DATE = /^(\d{4})(-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)$/;
const INVOICE_STEP = 1_000_000;

/** Start and end offsets of every field of one CSV line; a quote left open is an error. */
function fieldBounds(line: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 44 && !quoted) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  if (quoted) throw new Error(`a quoted field spans lines, which the generator does not shift: ${line.slice(0, 120)}`);
  out.push([start, line.length]);
  return out;
}

/** The line of copy k: InvoiceNo and InvoiceDate shifted, every other byte as it was. */
export function shiftLine(line: string, k: number): string {
  if (k === 0) return line;
  const f = fieldBounds(line);
  if (f.length !== COLUMNS.length) throw new Error(`expected ${COLUMNS.length} fields: ${line.slice(0, 120)}`);
  const inv = INVOICE.exec(line.slice(f[0][0], f[0][1]));
  const date = DATE.exec(line.slice(f[4][0], f[4][1]));
  if (!inv || !date) throw new Error(`InvoiceNo or InvoiceDate not in the sample's format: ${line.slice(0, 120)}`);
  const invoice = `${inv[1]}${Number(inv[2]) + k * INVOICE_STEP}`;
  const when = `${Number(date[1]) + k}${date[2]}`;
  return `${invoice}${line.slice(f[0][1], f[4][0])}${when}${line.slice(f[4][1])}`;
}

export interface ScaledInput {
  readonly dir: string;
  readonly copies: number;
  readonly files: number;
  /** Data lines (no headers). */
  readonly rows: number;
  readonly bytes: number;
}

/** Writes `copies` copies of every day file of `source` into `dir`, one file per shifted day, line by line. */
export async function writeScaledInput(source: string, dir: string, copies: number): Promise<ScaledInput> {
  const days = readdirSync(source).filter((f) => /^\d{4}-\d{2}-\d{2}\.csv$/.test(f)).sort();
  let rows = 0;
  let bytes = 0;
  for (let k = 0; k < copies; k++) {
    for (const day of days) {
      const name = `${Number(day.slice(0, 4)) + k}${day.slice(4)}`;
      const out = createWriteStream(join(dir, name));
      let header = true;
      for await (const line of createInterface({ input: createReadStream(join(source, day)), crlfDelay: Infinity })) {
        if (line === '') continue;
        const text = header ? line : shiftLine(line, k);
        if (!header) rows += 1;
        header = false;
        if (!out.write(`${text}\n`)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'close');
      bytes += statSync(join(dir, name)).size;
    }
  }
  return { dir, copies, files: days.length * copies, rows, bytes };
}

/** Reads the first `n` records of a generated file with the pipeline's own reader and parser. */
export async function checkScaledFile(file: string, day: string, n = 5): Promise<void> {
  let seen = 0;
  const input = createReadStream(file);
  try {
    for await (const rec of csvRecords(input)) {
      if (rec.line === 1) {
        if (rec.fields.join(',') !== COLUMNS.join(',')) throw new Error(`${file}: header is ${rec.raw}`);
        continue;
      }
      const row = parseRetailRow(rec.fields, tsvSuffix(file, rec.line, 'check'));
      if (rec.error !== undefined || !row.ok) throw new Error(`${file} line ${rec.line} does not parse: ${rec.error ?? (row.ok ? '' : row.reason)}`);
      if (row.day !== day) throw new Error(`${file} line ${rec.line}: day ${row.day}, expected ${day}`);
      if (++seen >= n) return;
    }
  } finally {
    input.destroy();
  }
  throw new Error(`${file}: fewer than ${n} records`);
}
