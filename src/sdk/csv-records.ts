import { StringDecoder } from 'node:string_decoder';

export interface CsvRecord {
  /** 1-based line number where the record starts in the file. */
  readonly line: number;
  readonly fields: string[];
  /** The record's text as in the file, without its line ending. */
  readonly raw: string;
}

/**
 * Reads RFC 4180 CSV from a byte stream, one record at a time, holding only the current
 * chunk in memory. Quoted fields may contain commas, doubled quotes and line breaks; CRLF
 * and a UTF-8 BOM are accepted; blank lines are skipped (but counted). A record with an unterminated quote at the end of the input
 * is still yielded (its fields as far as they go), so the caller can quarantine it.
 *
 * @example
 * for await (const r of csvRecords(createReadStream('sales.csv'))) {
 *   if (r.line === 1) continue; // header
 *   console.log(r.line, r.fields[0]);
 * }
 */
export async function* csvRecords(input: AsyncIterable<Buffer | string>): AsyncGenerator<CsvRecord> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let line = 1;
  let first = true;
  const take = function* (text: string, final: boolean): Generator<CsvRecord> {
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1 && !final) break;
      const end = nl === -1 ? text.length : nl;
      const quote = text.indexOf('"', pos);
      if (quote === -1 || quote > end) {
        // Fast path: no quotes on this line.
        const raw = text.charCodeAt(end - 1) === 13 ? text.slice(pos, end - 1) : text.slice(pos, end);
        if (raw.length > 0) yield { line, fields: raw.split(','), raw };
        line += 1;
        pos = end + 1;
        continue;
      }
      const r = parseQuoted(text, pos, final);
      if (r === null) break; // the record continues in the next chunk
      yield { line, fields: r.fields, raw: r.raw };
      line += r.lines;
      pos = r.next;
    }
    buf = text.slice(pos);
  };
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = text.length === 0;
    }
    yield* take(buf + text, false);
  }
  yield* take(buf + decoder.end(), true);
}

/** Parses one record that contains quotes, starting at `start`; null when it runs past the text. */
function parseQuoted(text: string, start: number, final: boolean): { fields: string[]; raw: string; next: number; lines: number } | null {
  const fields: string[] = [];
  let field = '';
  let i = start;
  let quoted = false;
  let lines = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (i + 1 >= n && !final) return null;
        quoted = false;
      } else {
        if (c === '\n') lines += 1;
        field += c;
      }
      i += 1;
      continue;
    }
    // A quote opens a quoted field only at the start of a field; elsewhere it is data.
    if (c === '"' && field === '' && (i === start || text[i - 1] === ',')) quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      break;
    } else if (c !== '\r' || text[i + 1] !== '\n') {
      field += c;
    }
    i += 1;
  }
  if (i >= n && !final) return null;
  fields.push(field);
  let rawEnd = i;
  if (rawEnd > start && text.charCodeAt(rawEnd - 1) === 13) rawEnd -= 1;
  return { fields, raw: text.slice(start, rawEnd), next: i + 1, lines };
}
