import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { csvRecords, type CsvOptions, type CsvRecord } from '../../src/sdk/csv-records.ts';

async function all(chunks: (string | Buffer)[], options?: CsvOptions): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of csvRecords(Readable.from(chunks), options)) out.push(r);
  return out;
}

test('plain, quoted, doubled quotes, CRLF and line numbers', async () => {
  const rs = await all(['a,b,c\r\n1,"x, y",3\n2,"say ""hi""",4\n']);
  assert.deepEqual(rs.map((r) => r.fields), [['a', 'b', 'c'], ['1', 'x, y', '3'], ['2', 'say "hi"', '4']]);
  assert.deepEqual(rs.map((r) => r.line), [1, 2, 3]);
  assert.equal(rs[1].raw, '1,"x, y",3');
});

test('a quoted line break keeps the record whole and the next line number right', async () => {
  const rs = await all(['h\n"multi\nline",1\nlast,2\n']);
  assert.deepEqual(rs[1].fields, ['multi\nline', '1']);
  assert.equal(rs[1].line, 2);
  assert.equal(rs[2].line, 4);
});

test('records split across chunks at every possible byte give the same result', async () => {
  const text = 'id,name\n1,"a,b"\n2,"c""d"\n3,plain\n4,"x\ny"\n';
  const whole = await all([text]);
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual(await all([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
  }
});

test('a multi-byte character split between buffers decodes intact', async () => {
  const bytes = Buffer.from('k,v\n1,café\n');
  const at = bytes.indexOf(0xc3) + 1;
  const rs = await all([bytes.subarray(0, at), bytes.subarray(at)]);
  assert.deepEqual(rs[1].fields, ['1', 'café']);
});

test('BOM stripped, blank lines skipped but counted, unterminated quote on the last line is an error', async () => {
  const stats = { blankLines: 0 };
  const rs = await all(['\ufeffa,b\n\n1,2\n\r\n3,"open'], { stats });
  assert.deepEqual(rs.map((r) => [r.line, r.fields]), [[1, ['a', 'b']], [3, ['1', '2']], [5, []]]);
  assert.equal(rs[2].error, 'unterminated quote opened on line 5 (no closing quote before the end of the input)');
  assert.equal(rs[2].raw, '3,"open');
  assert.equal(stats.blankLines, 2);
});

test('a quote inside an unquoted field is data', async () => {
  const rs = await all(['1,RECORD 7" SINGLE,2\n']);
  assert.deepEqual(rs[0].fields, ['1', 'RECORD 7" SINGLE', '2']);
});

// The broken shapes below are derived from a real day of the sample, cut into the 64 KiB
// chunks a file stream delivers.
const DAY = readFileSync(new URL('../../data/online-retail/2010-12-01.csv', import.meta.url));
const DAY_LINES = DAY.toString('utf8').trimEnd().split('\n'); // header + 3,108 data lines

function chunked(b: Buffer, size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

/** The day with line `n` (1-based) replaced. */
function dayWith(n: number, text: string): Buffer {
  const lines = [...DAY_LINES];
  lines[n - 1] = text;
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The file: an opening quote on line 301 and no closing one; the next quote in the file is on line 873. */
const LINE_301 = DAY_LINES[300].replace(',RED RETROSPOT MUG,', ',"RED RETROSPOT MUG,');

function assertResynchronised(rs: CsvRecord[], error: string): void {
  const errors = rs.filter((r) => r.error);
  assert.deepEqual(errors.map((r) => [r.line, r.lines, r.error]), [[301, 1, error]]);
  assert.equal(errors[0].raw, LINE_301);
  const good = rs.filter((r) => !r.error);
  assert.equal(good.length, 3_108); // header + 3,107 data lines
  assert.ok(good.every((r) => r.lines === 1 && r.fields.length === 8));
  assert.deepEqual(rs.map((r) => r.line), Array.from({ length: 3_109 }, (_, i) => i + 1));
  assert.equal(good.find((r) => r.line === 873)?.fields[2], 'RECORD FRAME 7" SINGLE SIZE ');
}

test('an unterminated quote on line 301 is one error record and lines 302–3109 are read again', async () => {
  const input = chunked(dayWith(301, LINE_301));
  assertResynchronised(await all(input), 'unterminated quote opened on line 301 (no closing quote within 100 lines)');
  assertResynchronised(
    await all(input, { maxRecordLines: 10_000, maxRecordBytes: 8_192 }),
    'unterminated quote opened on line 301 (no closing quote within 8192 bytes)',
  );
  // Within both bounds, the quote on line 873 cannot close a field that crossed lines.
  assertResynchronised(
    await all(input, { maxRecordLines: 10_000, maxRecordBytes: 1 << 20 }),
    'unterminated quote opened on line 301 (the quote on line 873 that would close it is followed by "R", not a comma or line end)',
  );
});

test('a quoted field within the bounds may hold line breaks', async () => {
  const rs = await all([`h\n1,"a\n${'x\n'.repeat(98)}b",2\n3,4\n`]);
  assert.deepEqual(rs.map((r) => [r.line, r.lines, r.fields.length, r.error]), [[1, 1, 1, undefined], [2, 100, 3, undefined], [102, 1, 2, undefined]]);
  const over = await all([`h\n1,"a\n${'x\n'.repeat(99)}b",2\n3,4\n`]);
  assert.deepEqual(over.filter((r) => r.error).map((r) => r.line), [2]);
  assert.equal(over.length, 1 + 1 + 100 + 1); // header, error, the 100 lines read again (x… and b",2), 3,4
});

test('an unterminated quote at the end of the input resynchronises too', async () => {
  const rs = await all(['h\n1,"abc\n2,x\n3,y']);
  assert.deepEqual(rs.map((r) => [r.line, r.fields, r.error]), [
    [1, ['h'], undefined],
    [2, [], 'unterminated quote opened on line 2 (no closing quote before the end of the input)'],
    [3, ['2', 'x'], undefined],
    [4, ['3', 'y'], undefined],
  ]);
  assert.deepEqual(rs[3].warnings?.map((w) => [w.kind, w.line]), [['no_final_newline', 4]]);
});

test('invalid UTF-8 is an error record with its line and byte offset, in every chunking', async () => {
  const bytes = dayWith(500, DAY_LINES[499]);
  const at = bytes.indexOf(Buffer.from(DAY_LINES[499])) + DAY_LINES[499].indexOf('GLASS');
  bytes[at] = 0xff;
  for (const size of [64 * 1024, 4096, 7, 1]) {
    const rs = size === 1 ? await all([bytes.subarray(0, at), bytes.subarray(at, at + 1), bytes.subarray(at + 1)]) : await all(chunked(bytes, size));
    const errors = rs.filter((r) => r.error);
    assert.deepEqual(errors.map((r) => [r.line, r.error]), [[500, `invalid UTF-8 on line 500 at byte offset ${at}`]], `chunks of ${size}`);
    assert.equal(rs.length, 3_109);
  }
  const replaced = await all(chunked(bytes), { invalidUtf8: 'replace' });
  assert.equal(replaced.filter((r) => r.error).length, 0);
  const r500 = replaced.find((r) => r.line === 500)!;
  assert.equal(r500.fields[2], '5 STRAND \ufffdLASS NECKLACE CRYSTAL');
  assert.deepEqual(r500.warnings, [{ kind: 'invalid_utf8', line: 500, message: `invalid UTF-8 on line 500 at byte offset ${at}, replaced with U+FFFD` }]);
});

test('invalid UTF-8 split across chunks, cut at the end, or after a real U+FFFD is located exactly', async () => {
  const text = Buffer.concat([Buffer.from('k,v\n1,caf\u00e9 \ufffd ok\n2,'), Buffer.from([0xe2, 0x82]), Buffer.from(',x\n3,\u20ac\n4,'), Buffer.from([0xe2])]);
  const bad1 = text.indexOf(Buffer.from([0xe2, 0x82, 0x2c]));
  const bad2 = text.length - 1;
  const whole = await all([text]);
  assert.deepEqual(whole.map((r) => [r.line, r.error ?? r.fields]), [
    [1, ['k', 'v']],
    [2, ['1', 'caf\u00e9 \ufffd ok']],
    [3, `invalid UTF-8 on line 3 at byte offset ${bad1}`],
    [4, ['3', '\u20ac']],
    [5, `invalid UTF-8 on line 5 at byte offset ${bad2}`],
  ]);
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual(await all([text.subarray(0, cut), text.subarray(cut)]), whole, `cut at ${cut}`);
  }
});

test('a last line cut without a final newline is read, with a warning naming it', async () => {
  const cutAt = DAY.length - 1 - 'POCKET BOOK,6,2010-12-01 17:35:00,0.85,18011.0,United Kingdom'.length;
  const rs = await all(chunked(DAY.subarray(0, cutAt)));
  assert.equal(rs.length, 3_109);
  const last = rs[rs.length - 1];
  assert.deepEqual([last.line, last.fields, last.error], [3109, ['536597', '20755', 'BLUE PAISLEY '], undefined]);
  assert.deepEqual(last.warnings, [{ kind: 'no_final_newline', line: 3109, message: 'line 3109 is the last and has no final newline: the file may be cut short' }]);
  assert.equal(rs.filter((r) => r.warnings).length, 1);
  assert.equal((await all(chunked(DAY))).filter((r) => r.warnings).length, 0);
});

test('empty and header-only inputs', async () => {
  const stats = { blankLines: 0 };
  assert.deepEqual(await all([Buffer.alloc(0)], { stats }), []);
  assert.deepEqual(await all(['\n\r\n'], { stats }), []);
  assert.equal(stats.blankLines, 2);
  const header = await all([`${DAY_LINES[0]}\n`]);
  assert.deepEqual(header.map((r) => [r.line, r.fields.length]), [[1, 8]]);
});

/** Real lines joined by spaces into one line of exactly `bytes` bytes, streamed in 64 KiB chunks. */
function* longLineDay(bytes: number, prefix = ''): Generator<Buffer> {
  yield Buffer.from(`${DAY_LINES[0]}\n${DAY_LINES[1]}\n${prefix}`);
  const body = Buffer.from(DAY_LINES.slice(1).join(' '));
  let left = bytes - prefix.length;
  while (left > 0) {
    const n = Math.min(left, 64 * 1024);
    yield body.subarray(0, n);
    left -= n;
  }
  yield Buffer.from(`\n${DAY_LINES[2]}\n`);
}

test('a 5 MB line is one bounded error record and the next line is read', async () => {
  const five = 5 * 1024 * 1024;
  for (const [label, prefix] of [['unquoted', ''], ['quoted', '"']]) {
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const rs: CsvRecord[] = [];
    for await (const r of csvRecords(Readable.from(longLineDay(five, prefix)))) {
      rs.push(r);
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    assert.deepEqual(rs.map((r) => [r.line, r.error]), [[1, undefined], [2, undefined], [3, `line longer than 65536 bytes (${five} bytes)`], [4, undefined]], label);
    assert.equal(rs[2].raw.length, 4096);
    assert.ok(rs[2].raw.startsWith(prefix + DAY_LINES[1].slice(0, 10)));
    assert.ok(peak < 4 * five, `${label}: heap grew by ${peak} bytes`);
  }
  // The same line in one string chunk, and a line over the limit in bytes but not in characters.
  const one = await all([`h\n${'x'.repeat(five)}\n1\n`]);
  assert.deepEqual(one.map((r) => [r.line, r.error]), [[1, undefined], [2, `line longer than 65536 bytes (${five} bytes)`], [3, undefined]]);
  const euros = await all([`h\n${'\u20ac'.repeat(30_000)}\n"${'\u20ac'.repeat(30_000)}"\n1\n`]);
  assert.deepEqual(euros.map((r) => [r.line, r.error]), [[1, undefined], [2, 'line longer than 65536 bytes (90000 bytes)'], [3, 'line longer than 65536 bytes (90002 bytes)'], [4, undefined]]);
});

test('a long quoted record arriving a byte at a time is read once it is whole, without rereading it per byte', async () => {
  const field = DAY_LINES.slice(1, 600).join('\n').replaceAll('"', '""'); // about 47 KB over 599 lines
  const bytes = Buffer.from(`h\n1,"${field}",2\n3,4\n`);
  const t = performance.now();
  const rs: CsvRecord[] = [];
  const bytewise = async function* () {
    for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
  };
  for await (const r of csvRecords(bytewise(), { maxRecordLines: 1000 })) rs.push(r);
  assert.deepEqual(rs.map((r) => [r.line, r.lines, r.error]), [[1, 1, undefined], [2, 599, undefined], [601, 1, undefined]]);
  assert.equal(rs[1].fields[1], DAY_LINES.slice(1, 600).join('\n'));
  assert.ok(performance.now() - t < 5_000, `took ${performance.now() - t} ms`);
});
