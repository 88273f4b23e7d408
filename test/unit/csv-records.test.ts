import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { csvRecords, type CsvRecord } from '../../src/sdk/csv-records.ts';

async function all(chunks: (string | Buffer)[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of csvRecords(Readable.from(chunks))) out.push(r);
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

test('BOM stripped, blank lines skipped but counted, unterminated quote still yielded', async () => {
  const rs = await all(['\ufeffa,b\n\n1,2\n3,"open']);
  assert.deepEqual(rs.map((r) => [r.line, r.fields]), [[1, ['a', 'b']], [3, ['1', '2']], [4, ['3', 'open']]]);
});

test('a quote inside an unquoted field is data', async () => {
  const rs = await all(['1,RECORD 7" SINGLE,2\n']);
  assert.deepEqual(rs[0].fields, ['1', 'RECORD 7" SINGLE', '2']);
});
