import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countNoun } from '../../src/cli/count-noun.ts';
import { formatTable } from '../../src/cli/format-table.ts';

const rows = [
  { id: 'a1', status: 'failed', error: 'source not found: /very/long/path/to/some/file/that/does/not/exist/sales-2010-12-01.csv' },
  { id: 'b2', status: 'succeeded', error: null },
];

test('a table wider than the terminal is cut on its widest cells, with …, and fits exactly', () => {
  const out = formatTable(rows, undefined, { width: 50 });
  const lines = out.split('\n');
  assert.ok(lines.every((l) => l.length <= 50), out);
  assert.equal(lines[1].length, 50, 'the rule spans the whole width');
  assert.equal(lines[2], 'a1  failed     source not found: /very/long/path/…');
  assert.equal(lines[3], 'b2  succeeded');
});

test('narrow columns keep their width; several wide ones share what is left', () => {
  const wide = [{ n: 1, a: 'x'.repeat(100), b: 'y'.repeat(100) }];
  const [, rule, line] = formatTable(wide, undefined, { width: 44 }).split('\n');
  assert.equal(rule, `-  ${'-'.repeat(20)}  ${'-'.repeat(19)}`);
  assert.equal(line, `1  ${'x'.repeat(19)}…  ${'y'.repeat(18)}…`);
});

test('without a width (not a terminal) nothing is cut; line breaks in a cell never break the table', () => {
  const out = formatTable(rows, undefined, {});
  assert.match(out, /sales-2010-12-01\.csv$/m);
  assert.equal(formatTable([{ a: 'one\ntwo' }], undefined, {}).split('\n')[2], 'one two');
  assert.equal(formatTable([], undefined, { width: 10 }), '(no rows)');
});

test('a table too wide even at its columns\' minimum keeps them readable rather than vanishing', () => {
  const out = formatTable([{ alpha: 'a'.repeat(30), beta: 'b'.repeat(30) }], undefined, { width: 5 });
  assert.equal(out.split('\n')[2], 'aaa…  bbb…');
});

test('counts: 1 row, 0 rows, 3,108 rows', () => {
  assert.equal(countNoun(1, 'row'), '1 row');
  assert.equal(countNoun(0, 'row'), '0 rows');
  assert.equal(countNoun(3108, 'row'), '3,108 rows');
  assert.equal(countNoun(2, 'entry', 'entries'), '2 entries');
});
