import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../src/presets/runtime.ts';
import type { RunUpdate } from '../../src/runtime/run-updates.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

// Each broken file is derived from the real 2010-12-01 (a header and 3,108 data lines);
// every run must account for every line: loaded, quarantined, or a day the run skips.
const SAMPLE = new URL('../../data/online-retail/2010-12-01.csv', import.meta.url);
const NEXT_DAY = new URL('../../data/online-retail/2010-12-02.csv', import.meta.url); // a header and 2,109 data lines
const DAY = readFileSync(SAMPLE);
const LINES = DAY.toString('utf8').trimEnd().split('\n');
const FIVE_MB = 5 * 1024 * 1024;

const dir = tempHome();
let rt: Runtime;
const logs: RunUpdate[] = [];

/** A source directory holding one derived copy of the day. */
function source(name: string, content: Buffer | string): string {
  const src = join(dir.home, name);
  mkdirSync(src);
  writeFileSync(join(src, '2010-12-01.csv'), content);
  return src;
}

const withLine = (n: number, text: string) => LINES.map((l, i) => (i === n - 1 ? text : l)).join('\n') + '\n';

before(async () => {
  rt = await openTestRuntime(dir.home);
  rt.coordinator.onUpdate((u) => {
    if (u.kind === 'log') logs.push(u);
  });
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

interface Outcome {
  status: string;
  error: string | null;
  runId: string;
  loaded: number;
  quarantine: { line_no: number; reason: string; raw_text: string }[];
  metadata: Record<string, unknown>;
  quarantineRows: number | undefined;
  warnings: string[];
}

async function run(src: string, params: Record<string, unknown> = {}, partition?: string): Promise<Outcome> {
  const { done } = await rt.coordinator.submit({ pipeline: 'retail', params: { source: src, ...params }, partition, allPartitions: partition === undefined });
  const detail = await done;
  const runId = detail.run.id;
  const wh = rt.services.warehouse;
  const [r] = await wh.query<{ n: number }>('SELECT count() AS n FROM raw.online_retail WHERE run_id = {run:String}', { run: runId });
  const quarantine = await wh.query<{ line_no: number; reason: string; raw_text: string }>(
    'SELECT line_no, reason, raw_text FROM quality.quarantine FINAL WHERE run_id = {run:String} ORDER BY line_no',
    { run: runId },
  );
  const history = await rt.services.metadata.assets.history({ runId, limit: 100 });
  const mat = (asset: string) => history.materializations.find((m) => m.asset === asset);
  return {
    status: detail.run.status,
    error: detail.run.error,
    runId,
    loaded: Number(r.n),
    quarantine: quarantine.map((q) => ({ ...q, line_no: Number(q.line_no) })),
    metadata: mat('raw.online_retail')?.metadata ?? {},
    quarantineRows: mat('quality.quarantine')?.rows,
    warnings: logs.filter((l) => l.kind === 'log' && l.runId === runId && l.level === 'warn').map((l) => (l.kind === 'log' ? l.message : '')),
  };
}

const reconciliation = (r: Partial<Record<string, number>>) => ({
  linesRead: 3_109, headerLines: 1, loaded: 0, quarantined: 0, otherPartitions: 0, blankLines: 0, continuationLines: 0, ...r,
});

test('the real day reconciles: 3,109 lines read = 1 header + 3,108 loaded', async () => {
  const o = await run(source('clean', DAY));
  assert.equal(o.status, 'succeeded', o.error ?? '');
  assert.equal(o.loaded, 3_108);
  assert.deepEqual(o.metadata.reconciliation, reconciliation({ loaded: 3_108 }));
  assert.equal(o.quarantineRows, 0);
});

test('an unterminated quote on line 301 quarantines that line only; lines 302–3109 load', async () => {
  const line301 = LINES[300].replace(',RED RETROSPOT MUG,', ',"RED RETROSPOT MUG,');
  const o = await run(source('unterminated-quote', withLine(301, line301)));
  assert.equal(o.status, 'succeeded', o.error ?? '');
  assert.equal(o.loaded, 3_107);
  assert.deepEqual(o.quarantine, [{ line_no: 301, reason: 'unterminated quote opened on line 301 (no closing quote within 100 lines)', raw_text: line301 }]);
  assert.deepEqual(o.metadata.reconciliation, reconciliation({ loaded: 3_107, quarantined: 1 }));
  assert.equal(o.metadata.quarantined, 1);
  assert.equal(o.quarantineRows, 1);
  const [r] = await rt.services.warehouse.query<{ n: number; longest: number }>(
    'SELECT count() AS n, max(length(description)) AS longest FROM raw.online_retail WHERE run_id = {run:String} AND line_no BETWEEN 302 AND 873',
    { run: o.runId },
  );
  assert.equal(Number(r.n), 572);
  assert.ok(Number(r.longest) < 100);
});

test('a partitioned run counts the other day\'s lines as other partitions', async () => {
  const line301 = LINES[300].replace(',RED RETROSPOT MUG,', ',"RED RETROSPOT MUG,');
  const src = source('two-days', withLine(301, line301));
  copyFileSync(NEXT_DAY, join(src, '2010-12-02.csv'));
  const o = await run(src, {}, '2010-12-01');
  assert.equal(o.status, 'succeeded', o.error ?? '');
  assert.equal(o.loaded, 3_107);
  assert.deepEqual(o.quarantine.map((q) => q.line_no), [301]);
  assert.deepEqual(o.metadata.reconciliation, reconciliation({ linesRead: 3_109 + 2_110, headerLines: 2, loaded: 3_107, quarantined: 1, otherPartitions: 2_109 }));
});

test('invalid UTF-8 is quarantined with line and byte offset, or replaced and counted by policy', async () => {
  const bytes = Buffer.from(DAY);
  const at = bytes.indexOf(Buffer.from(`${LINES[499]}\n`)) + LINES[499].indexOf('GLASS');
  bytes[at] = 0xff;
  const src = source('invalid-utf8', bytes);
  const q = await run(src);
  assert.equal(q.status, 'succeeded', q.error ?? '');
  assert.equal(q.loaded, 3_107);
  assert.deepEqual(q.quarantine.map((r) => [r.line_no, r.reason]), [[500, `invalid UTF-8 on line 500 at byte offset ${at}`]]);
  assert.deepEqual(q.metadata.reconciliation, reconciliation({ loaded: 3_107, quarantined: 1 }));

  const r = await run(src, { invalidUtf8: 'replace' });
  assert.equal(r.status, 'succeeded', r.error ?? '');
  assert.equal(r.loaded, 3_108);
  assert.deepEqual(r.quarantine, []);
  assert.deepEqual(r.metadata.reconciliation, reconciliation({ loaded: 3_108 }));
  assert.deepEqual(r.metadata.warnings, { invalidUtf8: 1, noFinalNewline: 0 });
  assert.deepEqual(r.warnings, [
    `1 lines had invalid UTF-8 replaced with U+FFFD (invalidUtf8=replace); first: ${join(src, '2010-12-01.csv')}: invalid UTF-8 on line 500 at byte offset ${at}, replaced with U+FFFD`,
  ]);
  const [d] = await rt.services.warehouse.query<{ description: string }>(
    'SELECT description FROM raw.online_retail WHERE run_id = {run:String} AND line_no = 500', { run: r.runId },
  );
  assert.equal(d.description, '5 STRAND \ufffdLASS NECKLACE CRYSTAL');
});

test('a last line cut mid-field without a final newline is a warning with its line', async () => {
  // The file ends inside the Description of line 3109: "536597,20755,BLUE PAISLEY "
  const cut = DAY.subarray(0, DAY.length - 1 - 'POCKET BOOK,6,2010-12-01 17:35:00,0.85,18011.0,United Kingdom'.length);
  const src = source('truncated', cut);
  const o = await run(src);
  assert.equal(o.status, 'succeeded', o.error ?? '');
  assert.equal(o.loaded, 3_107);
  assert.deepEqual(o.quarantine.map((r) => [r.line_no, r.reason, r.raw_text]), [[3109, 'expected 8 columns, got 3', '536597,20755,BLUE PAISLEY ']]);
  assert.deepEqual(o.metadata.reconciliation, reconciliation({ loaded: 3_107, quarantined: 1 }));
  assert.deepEqual(o.metadata.warnings, { invalidUtf8: 0, noFinalNewline: 1 });
  assert.ok(o.warnings.includes(`${join(src, '2010-12-01.csv')}: line 3109 is the last and has no final newline: the file may be cut short`), o.warnings.join('\n'));
});

test('a 5 MB line is quarantined as too long, its text cut to 4 KiB, and the next line loads', async () => {
  const body = Buffer.from(LINES.slice(1).join(' '));
  const long = Buffer.alloc(FIVE_MB);
  for (let i = 0; i < FIVE_MB; i += body.length) body.copy(long, i, 0, Math.min(body.length, FIVE_MB - i));
  const head = Buffer.from(`${LINES.slice(0, 1000).join('\n')}\n`);
  const tail = Buffer.from(`\n${LINES.slice(1000).join('\n')}\n`);
  const o = await run(source('five-mb-line', Buffer.concat([head, long, tail])));
  assert.equal(o.status, 'succeeded', o.error ?? '');
  assert.equal(o.loaded, 3_108);
  assert.deepEqual(o.quarantine.map((r) => [r.line_no, r.reason, r.raw_text.length]), [[1001, `line longer than 65536 bytes (${FIVE_MB} bytes)`, 4096]]);
  assert.ok(o.quarantine[0].raw_text.startsWith(LINES[1].slice(0, 40)));
  assert.deepEqual(o.metadata.reconciliation, reconciliation({ linesRead: 3_110, loaded: 3_108, quarantined: 1 }));
  const [r] = await rt.services.warehouse.query<{ n: number }>(
    'SELECT count() AS n FROM raw.online_retail WHERE run_id = {run:String} AND line_no = 1002 AND invoice_no = {inv:String}',
    { run: o.runId, inv: LINES[1000].split(',')[0] },
  );
  assert.equal(Number(r.n), 1);
});

test('an empty file and a header-only file fail the load, naming the file and which it is', async () => {
  const empty = await run(source('empty', ''));
  assert.equal(empty.status, 'failed');
  assert.match(empty.error ?? '', /empty[/\\]2010-12-01\.csv is empty: no header line and no data lines/);
  const header = await run(source('header-only', `${LINES[0]}\n`));
  assert.equal(header.status, 'failed');
  assert.match(header.error ?? '', /header-only[/\\]2010-12-01\.csv has only a header line and no data lines/);
  assert.equal(header.loaded, 0);
});
