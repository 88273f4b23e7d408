import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInvoiceDate, parseRetailRow, tsvSuffix } from '../../pipelines/retail/parse-row.ts';

const row = (over: Partial<Record<number, string>> = {}) => {
  const f = ['536365', '85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', '6', '2010-12-01 08:26:00', '2.55', '17850.0', 'United Kingdom'];
  for (const [i, v] of Object.entries(over)) f[Number(i)] = v!;
  return f;
};

test('a good row becomes one TSV line with the day first', () => {
  const r = parseRetailRow(row(), tsvSuffix('f.csv', 2, 'run'));
  assert.ok(r.ok);
  assert.equal(r.tsv, '2010-12-01\t536365\t85123A\tWHITE HANGING HEART T-LIGHT HOLDER\t6\t2010-12-01 08:26:00\t2.55\t17850.0\tUnited Kingdom\tf.csv\t2\trun\n');
});

test('tabs, backslashes and newlines in text are escaped for TSV', () => {
  const r = parseRetailRow(row({ 2: 'a\tb\\c\nd' }), '');
  assert.ok(r.ok);
  assert.match(r.tsv, /a\\tb\\\\c\\nd/);
});

test('each kind of bad row gets a reason naming the field', () => {
  const cases: [string[], RegExp][] = [
    [row().slice(0, 7), /expected 8 columns, got 7/],
    [row({ 3: '6.5' }), /Quantity is not an integer: "6\.5"/],
    [row({ 5: '' }), /UnitPrice is not a number: ""/],
    [row({ 4: '2010-13-01 08:00:00' }), /InvoiceDate is not a date/],
    [row({ 6: 'abc' }), /CustomerID is not a customer number/],
  ];
  for (const [fields, reason] of cases) {
    const r = parseRetailRow(fields, '');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('an empty InvoiceDate is kept as missing (staging drops it), not quarantined', () => {
  const r = parseRetailRow(row({ 4: '' }), '');
  assert.ok(r.ok);
  assert.equal(r.day, '1970-01-01');
  assert.match(r.tsv, /\t\\N\t/);
});

test('dates: ISO and the original UCI layout; impossible dates refused', () => {
  assert.equal(parseInvoiceDate('2010-12-01 08:26:00'), '2010-12-01 08:26:00');
  assert.equal(parseInvoiceDate('12/1/2010 8:26'), '2010-12-01 08:26:00');
  assert.equal(parseInvoiceDate('2010-02-30 10:00:00'), null);
  assert.equal(parseInvoiceDate('2010-12-01 25:00'), null);
  assert.equal(parseInvoiceDate('yesterday'), null);
});
