import { isUtf8 } from 'node:buffer';

export interface CsvRecord {
  /** 1-based line number where the record starts in the file. */
  readonly line: number;
  /** Physical lines the record spans: more than 1 only when a quoted field holds line breaks. */
  readonly lines: number;
  /** The fields; empty when `error` is set. */
  readonly fields: string[];
  /** The record's text as in the file, without its line ending; cut to 4096 characters when `error` is set. */
  readonly raw: string;
  /** Set when these lines could not be read as a record: the caller should quarantine them. */
  readonly error?: string;
  /** Things the caller should surface although the record was read. */
  readonly warnings?: readonly CsvWarning[];
}

export interface CsvWarning {
  readonly kind: 'invalid_utf8' | 'no_final_newline';
  readonly line: number;
  readonly message: string;
}

export interface CsvOptions {
  /** A record longer than this (UTF-8 bytes) becomes an error record; default 64 KiB. */
  readonly maxRecordBytes?: number;
  /** A record spanning more physical lines than this becomes an error record; default 100. */
  readonly maxRecordLines?: number;
  /**
   * A record with bytes that are not UTF-8: `'quarantine'` (default) makes it an error
   * record; `'replace'` reads it with U+FFFD in their place and an `invalid_utf8` warning.
   */
  readonly invalidUtf8?: 'quarantine' | 'replace';
  /** Filled in while reading, for callers that reconcile line counts. */
  readonly stats?: CsvStats;
}

export interface CsvStats {
  /** Empty lines, which yield no record. */
  blankLines: number;
}

/** Longest `raw` of an error record: enough to recognise the line, never the whole 5 MB of it. */
const ERROR_RAW_CHARS = 4096;
const EMPTY = Buffer.alloc(0);

type Limits = { readonly chars: number; readonly bytes: number; readonly lines: number };

/**
 * Reads RFC 4180 CSV from a byte stream, one record at a time, with bounded memory: the
 * current chunk plus at most one record of `maxRecordBytes`. Quoted fields may contain
 * commas, doubled quotes and line breaks; CRLF and a UTF-8 BOM are accepted; blank lines
 * are skipped (but counted). Malformed input never swallows good lines: it comes out as
 * an error record (`error` set, `fields` empty) and reading resumes on the next line.
 *
 * - A quoted field still open after `maxRecordLines` lines or `maxRecordBytes` bytes, at
 *   the end of the input, or "closed" across lines by a quote followed by something other
 *   than a comma or line end, gives `unterminated quote opened on line N (…)`, and the
 *   line after N is read as a record again.
 * - A line longer than `maxRecordBytes` gives `line longer than … bytes (… bytes)`; the
 *   rest of it is discarded as it streams past.
 * - Bytes that are not UTF-8 give `invalid UTF-8 on line N at byte offset B` (B counts
 *   from the start of the input), or a warning under `invalidUtf8: 'replace'`.
 * - A last line without a final newline is read, with a `no_final_newline` warning: the
 *   file may have been cut short.
 *
 * @example
 * const stats = { blankLines: 0 };
 * for await (const r of csvRecords(createReadStream('sales.csv'), { stats })) {
 *   if (r.error) quarantine(r.line, r.raw, r.error);
 *   else if (r.line > 1) console.log(r.line, r.fields[0]); // line 1 is the header
 * }
 */
export async function* csvRecords(input: AsyncIterable<Buffer | string>, options: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const maxBytes = options.maxRecordBytes ?? 64 * 1024;
  // A JS string has at most as many UTF-16 units as UTF-8 bytes, so counting units bounds
  // memory and needs the exact byte count only for records within a factor 3 of the limit.
  const limits: Limits = { chars: maxBytes, bytes: maxBytes, lines: options.maxRecordLines ?? 100 };
  const third = maxBytes / 3;
  const replace = options.invalidUtf8 === 'replace';
  const stats = options.stats;
  let buf = '';
  let line = 1;
  let first = true;
  /** The too-long line being discarded: its start, first characters and bytes so far. */
  let skip: { line: number; raw: string; bytes: number } | null = null;
  /** Physical lines with invalid UTF-8 not yet passed, to the byte offset of the first bad byte. */
  const bad = new Map<number, number>();
  let carry: Buffer = EMPTY;
  let offset = 0;
  // Text held back while an incomplete record waits: reading the record again for every
  // small chunk would be quadratic, so it is read again once the new text is as long.
  let pending = '';

  /** The bad-UTF-8 verdict on lines [from, to), forgetting them. */
  const badIn = (from: number, to: number): { line: number; offset: number } | null => {
    let hit: { line: number; offset: number } | null = null;
    for (const [ln, at] of bad) {
      if (ln >= to) break;
      if (ln >= from && hit === null) hit = { line: ln, offset: at };
      bad.delete(ln);
    }
    return hit;
  };

  const errorRecord = (from: number, lines: number, raw: string, error: string): CsvRecord => {
    if (bad.size > 0) badIn(from, from + lines);
    return { line: from, lines, fields: [], raw: cut(raw), error };
  };

  /** A parsed record, unless its lines hold invalid UTF-8 under the quarantine policy. */
  const record = (from: number, lines: number, fields: string[], raw: string, lastNoNewline: boolean): CsvRecord => {
    const warnings: CsvWarning[] = [];
    const hit = bad.size > 0 ? badIn(from, from + lines) : null;
    if (hit !== null) {
      const where = `invalid UTF-8 on line ${hit.line} at byte offset ${hit.offset}`;
      if (!replace) return { line: from, lines, fields: [], raw: cut(raw), error: where };
      warnings.push({ kind: 'invalid_utf8', line: hit.line, message: `${where}, replaced with U+FFFD` });
    }
    if (lastNoNewline) {
      const last = from + lines - 1;
      warnings.push({ kind: 'no_final_newline', line: last, message: `line ${last} is the last and has no final newline: the file may be cut short` });
    }
    return warnings.length === 0 ? { line: from, lines, fields, raw } : { line: from, lines, fields, raw, warnings };
  };

  const take = function* (text: string, final: boolean): Generator<CsvRecord> {
    let pos = 0;
    if (skip !== null) {
      const nl = text.indexOf('\n');
      if (nl === -1 && !final) {
        skip.bytes += Buffer.byteLength(text);
        buf = '';
        return;
      }
      const end = nl === -1 ? text.length : nl;
      skip.bytes += Buffer.byteLength(text.slice(0, text.charCodeAt(end - 1) === 13 ? end - 1 : end));
      yield errorRecord(skip.line, 1, skip.raw, tooLong(skip.bytes, limits));
      skip = null;
      line += 1;
      pos = end + 1;
    }
    // The next quote at or after pos (-1: none); found once per stretch of lines, not per line.
    let quote = -2;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1 && !final) {
        const rest = text.length - pos;
        if (rest > limits.chars || (rest > third && Buffer.byteLength(text.slice(pos)) > limits.bytes)) {
          skip = { line, raw: text.slice(pos, pos + ERROR_RAW_CHARS), bytes: Buffer.byteLength(text.slice(pos)) };
          buf = '';
          return;
        }
        break;
      }
      const end = nl === -1 ? text.length : nl;
      if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
      if (quote === -1 || quote > end) {
        // Fast path: no quotes on this line.
        const rawEnd = text.charCodeAt(end - 1) === 13 ? end - 1 : end;
        if (rawEnd - pos > third) {
          const bytes = Buffer.byteLength(text.slice(pos, rawEnd));
          if (bytes > limits.bytes) {
            yield errorRecord(line, 1, text.slice(pos, pos + ERROR_RAW_CHARS), tooLong(bytes, limits));
            line += 1;
            pos = end + 1;
            continue;
          }
        }
        if (rawEnd > pos) {
          const raw = text.slice(pos, rawEnd);
          if (bad.size === 0 && nl !== -1) yield { line, lines: 1, fields: raw.split(','), raw };
          else yield record(line, 1, raw.split(','), raw, nl === -1);
        } else if (stats) stats.blankLines += 1;
        line += 1;
        pos = end + 1;
        continue;
      }
      const r = parseQuoted(text, pos, line, final, limits);
      if (r.kind === 'more') break;
      if (r.kind === 'record') {
        yield record(line, r.lines, r.fields, r.raw, r.next > text.length);
        line += r.lines;
        pos = r.next;
        continue;
      }
      if (r.kind === 'broken') {
        // Resynchronise on the line after the one where the runaway quote opened.
        const nlAfter = text.indexOf('\n', r.openAt);
        const next = nlAfter === -1 ? text.length : nlAfter + 1;
        const firstEnd = text.indexOf('\n', pos);
        const rawEnd = Math.min(firstEnd === -1 ? text.length : firstEnd, pos + ERROR_RAW_CHARS);
        yield errorRecord(line, r.openLine + 1, trimCr(text.slice(pos, rawEnd)), r.error);
        line += r.openLine + 1;
        pos = next;
        continue;
      }
      // One physical line over the limit: report it once its end (and length) is known.
      const lineEnd = text.indexOf('\n', pos);
      if (lineEnd === -1 && !final) {
        skip = { line, raw: text.slice(pos, pos + ERROR_RAW_CHARS), bytes: Buffer.byteLength(text.slice(pos)) };
        buf = '';
        return;
      }
      const stop = lineEnd === -1 ? text.length : lineEnd;
      yield errorRecord(line, 1, text.slice(pos, Math.min(stop, pos + ERROR_RAW_CHARS)), tooLong(Buffer.byteLength(trimCr(text.slice(pos, stop))), limits));
      line += 1;
      pos = stop + 1;
    }
    buf = pos < text.length ? text.slice(pos) : '';
  };

  /** Text of a chunk, recording which lines hold bytes that are not UTF-8. */
  const decode = (chunk: Buffer, final: boolean): string => {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const whole = final ? bytes.length : completeUpTo(bytes);
    const body = whole === bytes.length ? bytes : bytes.subarray(0, whole);
    carry = whole === bytes.length ? EMPTY : Buffer.from(bytes.subarray(whole));
    const at = offset;
    offset += body.length;
    if (!isUtf8(body)) {
      let ln = line + countNewlines(buf) + countNewlines(pending);
      for (let p = 0; p <= body.length; ln++) {
        let e = body.indexOf(10, p);
        if (e === -1) e = body.length;
        if (e > p && !isUtf8(body.subarray(p, e)) && !bad.has(ln)) bad.set(ln, at + p + firstInvalid(body.subarray(p, e)));
        p = e + 1;
      }
    }
    return body.toString('utf8');
  };

  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decode(chunk, false);
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = text.length === 0;
    }
    pending += text;
    if (buf.length > 4096 && pending.length < buf.length) continue;
    yield* take(buf + pending, false);
    pending = '';
  }
  yield* take(buf + pending + (carry.length > 0 ? decode(EMPTY, true) : ''), true);
}

type Parsed =
  | { kind: 'more' }
  | { kind: 'record'; fields: string[]; raw: string; next: number; lines: number }
  /** A quoted field ran away: the record ends with the line (relative `openLine`, starting at `openAt`) where it opened. */
  | { kind: 'broken'; openLine: number; openAt: number; error: string }
  /** The record's first physical line alone is over the limit. */
  | { kind: 'long' };

/** Parses one record that contains quotes, starting at `start` on line `lineNo`. */
function parseQuoted(text: string, start: number, lineNo: number, final: boolean, limits: Limits): Parsed {
  const fields: string[] = [];
  let field = '';
  let i = start;
  let quoted = false;
  let lines = 1;
  let lineAt = start;
  // The quoted field open now (or last closed), and whether it held a line break.
  let openLine = 0;
  let openAt = start;
  let spans = false;
  // The last quoted field that held a line break: a runaway record is cut after its opening line.
  let spanLine = -1;
  let spanAt = start;
  const n = text.length;
  const stop = Math.min(n, start + limits.chars + 1);
  const runaway = (why: string): Parsed => ({
    kind: 'broken', openLine: spanLine, openAt: spanAt, error: `unterminated quote opened on line ${lineNo + spanLine}${why}`,
  });
  while (i < stop) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (i + 1 >= n && !final) return { kind: 'more' };
        const after = text[i + 1];
        if (spans && i + 1 < n && after !== ',' && after !== '\n' && after !== '\r') {
          return runaway(` (the quote on line ${lineNo + lines - 1} that would close it is followed by ${JSON.stringify(after)}, not a comma or line end)`);
        }
        quoted = false;
      } else {
        if (c === '\n') {
          lines += 1;
          lineAt = i + 1;
          if (!spans) {
            spans = true;
            spanLine = openLine;
            spanAt = openAt;
          }
          if (lines > limits.lines) return runaway(` (no closing quote within ${limits.lines} lines)`);
        }
        field += c;
      }
      i += 1;
      continue;
    }
    // A quote opens a quoted field only at the start of a field; elsewhere it is data.
    if (c === '"' && field === '' && (i === start || text[i - 1] === ',')) {
      quoted = true;
      spans = false;
      openLine = lines - 1;
      openAt = lineAt;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      break;
    } else if (c !== '\r' || text[i + 1] !== '\n') {
      field += c;
    }
    i += 1;
  }
  if (i >= stop && stop < n) return overLimit();
  if (i >= n && !final) return { kind: 'more' };
  if (quoted) {
    if (spans) return runaway(' (no closing quote before the end of the input)');
    // An unterminated quote on the last line: nothing after it to save.
    return { kind: 'broken', openLine: lines - 1, openAt: lineAt, error: `unterminated quote opened on line ${lineNo + lines - 1} (no closing quote before the end of the input)` };
  }
  fields.push(field);
  let rawEnd = i;
  if (rawEnd > start && text.charCodeAt(rawEnd - 1) === 13) rawEnd -= 1;
  if ((rawEnd - start) * 3 > limits.bytes && Buffer.byteLength(text.slice(start, rawEnd)) > limits.bytes) return overLimit();
  return { kind: 'record', fields, raw: text.slice(start, rawEnd), next: i + 1, lines };

  function overLimit(): Parsed {
    if (spanLine === -1) return { kind: 'long' };
    return quoted && spans
      ? runaway(` (no closing quote within ${limits.bytes} bytes)`)
      : { kind: 'broken', openLine: spanLine, openAt: spanAt, error: `record starting on line ${lineNo} is longer than ${limits.bytes} bytes` };
  }
}

function tooLong(bytes: number, limits: Limits): string {
  return `line longer than ${limits.bytes} bytes (${bytes} bytes)`;
}

function trimCr(s: string): string {
  return s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
}

/** At most ERROR_RAW_CHARS, never ending in half a surrogate pair. */
function cut(raw: string): string {
  if (raw.length <= ERROR_RAW_CHARS) return raw;
  const c = raw.charCodeAt(ERROR_RAW_CHARS - 1);
  return raw.slice(0, c >= 0xd800 && c <= 0xdbff ? ERROR_RAW_CHARS - 1 : ERROR_RAW_CHARS);
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n += 1;
  return n;
}

/** Length of `b` without a multi-byte character cut off at its end (which the next chunk completes). */
function completeUpTo(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const byte = b[n - k];
    if ((byte & 0xc0) === 0x80) continue;
    if (byte < 0xc0) return n;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return need > k ? n - k : n;
  }
  return n;
}

/** Offset of the first byte of `b` that is not part of valid UTF-8. */
function firstInvalid(b: Buffer): number {
  // Up to the first bad byte the decoded text round-trips exactly; a U+FFFD that was
  // really in the input (EF BF BD) is not the one we are looking for.
  const s = b.toString('utf8');
  for (let i = s.indexOf('\ufffd'); i !== -1; i = s.indexOf('\ufffd', i + 1)) {
    const at = Buffer.byteLength(s.slice(0, i));
    if (b[at] !== 0xef || b[at + 1] !== 0xbf || b[at + 2] !== 0xbd) return at;
  }
  return 0;
}
