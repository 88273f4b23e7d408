// Turns one CSV record of the Online Retail layout into a TabSeparated line for
// raw.online_retail, or says exactly why it cannot.

export const COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;

/** Column order of the TSV lines, matching raw.online_retail. */
export const RAW_TSV_COLUMNS = [
  'day', 'invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country',
  'source_file', 'line_no', 'run_id',
] as const;

export type ParsedRow = { ok: true; day: string; tsv: string } | { ok: false; day: string | null; reason: string };

const INT = /^[+-]?\d{1,9}$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
// The original UCI export writes dates as 12/1/2010 8:26.
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const CUSTOMER = /^(\d+(\.0*)?)?$/;

const pad = (s: string) => (s.length === 1 ? `0${s}` : s);

// Lines of one invoice share their timestamp, so the last answer is usually the next one.
let lastText = '';
let lastDate: string | null = null;

/** ISO `YYYY-MM-DD hh:mm:ss`, or null when the text is not a real date and time. */
export function parseInvoiceDate(text: string): string | null {
  if (text === lastText) return lastDate;
  lastDate = parseDate(text);
  lastText = text;
  return lastDate;
}

function parseDate(text: string): string | null {
  let y: string, mo: string, d: string, h: string, mi: string, s: string | undefined;
  let m = ISO.exec(text);
  if (m) [, y, mo, d, h, mi, s] = m;
  else if ((m = US.exec(text))) [, mo, d, y, h, mi, s] = m;
  else return null;
  const iso = `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${mi}:${s ?? '00'}`;
  const t = new Date(`${iso.replace(' ', 'T')}Z`);
  // Round-tripping rejects 2010-02-30 and 25:00, which Date would silently roll over.
  if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 19).replace('T', ' ') !== iso) return null;
  return iso;
}

function escapeTsv(s: string): string {
  if (!/[\t\n\r\\]/.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Validates one record; `suffix` is the already-escaped `\tsource\tline\trun` tail. */
export function parseRetailRow(fields: readonly string[], suffix: string): ParsedRow {
  if (fields.length !== COLUMNS.length) {
    return { ok: false, day: null, reason: `expected ${COLUMNS.length} columns, got ${fields.length}` };
  }
  const [invoiceNo, stockCode, description, quantity, invoiceDate, unitPrice, customerId, country] = fields;
  const dateText = invoiceDate.trim();
  const date = dateText === '' ? '' : parseInvoiceDate(dateText);
  const day = date === null ? null : date === '' ? '1970-01-01' : date.slice(0, 10);
  if (date === null) return { ok: false, day, reason: `InvoiceDate is not a date: "${invoiceDate}"` };
  const q = quantity.trim();
  if (!INT.test(q)) return { ok: false, day, reason: `Quantity is not an integer: "${quantity}"` };
  const p = unitPrice.trim();
  if (!DECIMAL.test(p)) return { ok: false, day, reason: `UnitPrice is not a number: "${unitPrice}"` };
  const c = customerId.trim();
  if (!CUSTOMER.test(c)) return { ok: false, day, reason: `CustomerID is not a customer number: "${customerId}"` };
  const tsv = `${day}\t${escapeTsv(invoiceNo)}\t${escapeTsv(stockCode)}\t${escapeTsv(description)}\t${q}\t${date === '' ? '\\N' : date}\t${p}\t${c}\t${escapeTsv(country)}${suffix}\n`;
  return { ok: true, day: day!, tsv };
}

/** The `\tsource\tline\trun` tail of a TSV line. */
export function tsvSuffix(source: string, line: number, runId: string): string {
  return `\t${escapeTsv(source)}\t${line}\t${runId}`;
}
