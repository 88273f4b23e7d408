export interface TableOptions {
  /** Lines are cut to this many characters by shortening the widest cells (with …); default: the terminal's width, none when stdout is not a terminal. */
  readonly width?: number;
}

const GAP = 2;

/** Plain-text table with a header row; values are shown with String(), on one line each. */
export function formatTable(rows: readonly Record<string, unknown>[], columns?: readonly string[], options: TableOptions = {}): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/\s*[\r\n]+\s*/g, ' ');
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const natural = cols.map((c, i) => Math.max(c.length, ...body.map((vals) => vals[i].length)));
  const width = options.width ?? (process.stdout.isTTY ? process.stdout.columns : undefined);
  const widths = width === undefined ? natural : fitWidths(natural, cols.map((c) => Math.min(4, c.length)), width);
  const line = (vals: readonly string[]) => vals.map((v, i) => cut(v, widths[i]).padEnd(widths[i])).join(' '.repeat(GAP)).trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const cut = (s: string, w: number) => (s.length <= w ? s : `${s.slice(0, Math.max(0, w - 1))}…`);

/**
 * Lowers one cap over the widest columns until the line fits `max` (or every column is at
 * its minimum); columns narrower than the cap keep their width, so ids and statuses stay whole.
 */
function fitWidths(natural: readonly number[], minimum: readonly number[], max: number): number[] {
  const gaps = GAP * (natural.length - 1);
  const at = (cap: number) => natural.map((w, i) => Math.min(w, Math.max(cap, minimum[i])));
  const total = (ws: readonly number[]) => ws.reduce((a, b) => a + b, 0) + gaps;
  if (total(natural) <= max) return [...natural];
  let lo = 0;
  let hi = Math.max(...natural);
  // The largest cap that fits.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (total(at(mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  const out = at(lo);
  // What the cap leaves over goes to the capped columns, one character each, left to right.
  let spare = max - total(out);
  for (let i = 0; i < out.length && spare > 0; i++) {
    if (out[i] < natural[i]) {
      out[i] += 1;
      spare -= 1;
    }
  }
  return out;
}

/** RFC 4180 CSV with a header row. */
export function formatCsv(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.map(cell).join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n');
}
