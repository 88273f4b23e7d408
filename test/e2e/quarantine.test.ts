import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../src/presets/runtime.ts';
import { summaryLine } from '../../src/cli/print-summary.ts';
import { summarizeRun } from '../../src/cli/run-summary.ts';
import type { RunDetail } from '../../src/ports/metadata-store.ts';
import { startApi } from '../helpers/api.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

const SAMPLE = new URL('../../data/online-retail/2010-12-01.csv', import.meta.url);

// A real day with broken lines spliced in: every good line must load, each broken one
// must land in quality.quarantine with its own line number and reason.
const dir = tempHome();
let rt: Runtime;
const src = join(dir.home, 'input');
const broken = new Map<number, RegExp>();
let corrupted: RunDetail;

before(async () => {
  mkdirSync(src);
  const lines = readFileSync(SAMPLE, 'utf8').trimEnd().split('\n');
  const inserts: [number, string, RegExp][] = [
    [10, '536999,22752,SET 7 BABUSHKA NESTING BOXES,two,2010-12-01 08:26:00,7.65,17850.0,United Kingdom', /Quantity is not an integer: "two"/],
    [20, '536999,21730,GLASS STAR FROSTED T-LIGHT HOLDER,6,2010-12-01 08:26:00,4.25', /expected 8 columns, got 6/],
    [30, '536999,22633,HAND WARMER UNION JACK,6,yesterday,1.85,17850.0,United Kingdom', /InvoiceDate is not a date: "yesterday"/],
    [40, '536999,22632,"HAND WARMER, RED",6,2010-12-01 08:28:00,abc,17850.0,United Kingdom', /UnitPrice is not a number: "abc"/],
    [50, '536999,84879,ASSORTED COLOUR BIRD ORNAMENT,8,2010-02-30 09:00:00,1.69,13047.0,United Kingdom', /InvoiceDate is not a date/],
  ];
  // Insert from the bottom so earlier line numbers stay valid; file line = index + 1.
  for (const [at, text] of [...inserts].reverse()) lines.splice(at, 0, text);
  lines.forEach((l, i) => {
    const hit = inserts.find(([, text]) => text === l);
    if (hit) broken.set(i + 1, hit[2]);
  });
  writeFileSync(join(src, '2010-12-01.csv'), `${lines.join('\n')}\n`);
  rt = await openTestRuntime(dir.home);
});
after(async () => {
  await rt?.close();
  dir.cleanup();
});

test('a corrupted day loads every good line and quarantines each broken one with line and reason', async () => {
  const { done } = await rt.coordinator.submit({ pipeline: 'retail', allPartitions: true, params: { source: src } });
  const detail = await done;
  corrupted = detail;
  assert.equal(detail.run.status, 'succeeded', detail.run.error ?? '');
  const [r] = await rt.services.warehouse.query<{ n: number }>('SELECT count() AS n FROM raw.online_retail');
  assert.equal(Number(r.n), 3_108);
  const q = await rt.services.warehouse.query<{ line_no: number; reason: string; raw_text: string; source_file: string }>(
    'SELECT line_no, reason, raw_text, source_file FROM quality.quarantine FINAL ORDER BY line_no',
  );
  assert.equal(q.length, broken.size);
  for (const row of q) {
    const expected = broken.get(Number(row.line_no));
    assert.ok(expected, `unexpected quarantined line ${row.line_no}: ${row.reason}`);
    assert.match(row.reason, expected);
    assert.ok(row.raw_text.startsWith('536999,'));
    assert.ok(row.source_file.endsWith('2010-12-01.csv'));
  }
  const history = await rt.services.metadata.assets.history({ runId: detail.run.id, asset: 'raw.online_retail' });
  assert.equal(history.materializations[0].metadata.quarantined, broken.size);
  assert.equal(history.materializations[0].rows, 3_108);
});

test('the quarantine count is one number: run summary, quality.quarantine materialization, GET /assets, the table', async () => {
  const runId = corrupted.run.id;
  const history = await rt.services.metadata.assets.history({ runId, limit: 1000 });
  const summary = summarizeRun(corrupted, history.materializations, history.checks);
  assert.equal(summary.quarantined, broken.size);
  assert.match(summaryLine(summary), new RegExp(`, ${broken.size} quarantined$`));
  const mat = history.materializations.find((m) => m.asset === 'quality.quarantine');
  assert.equal(mat?.rows, broken.size);
  const [q] = await rt.services.warehouse.query<{ n: number }>(
    'SELECT count() AS n FROM quality.quarantine FINAL WHERE run_id = {run:String}', { run: runId },
  );
  assert.equal(Number(q.n), broken.size);
  const { app, url } = await startApi(rt, async () => ({ role: 'view', name: 'test' }));
  try {
    const { items } = await (await fetch(`${url}/api/v1/assets`)).json() as { items: { name: string; latest: { runId: string; rows: number } | null }[] };
    const latest = items.find((a) => a.name === 'quality.quarantine')?.latest;
    assert.deepEqual({ runId: latest?.runId, rows: latest?.rows }, { runId, rows: broken.size });
  } finally {
    await app.close();
  }
});

test('rerunning the corrupted day quarantines nothing twice', async () => {
  const { done } = await rt.coordinator.submit({ pipeline: 'retail', params: { source: src }, partition: '2010-12-01' });
  assert.equal((await done).run.status, 'succeeded');
  const [q] = await rt.services.warehouse.query<{ n: number }>('SELECT count() AS n FROM quality.quarantine FINAL');
  assert.equal(Number(q.n), broken.size);
});

test('maxBadRows stops the load and says why', async () => {
  const { done } = await rt.coordinator.submit({ pipeline: 'retail', allPartitions: true, params: { source: src, maxBadRows: '2' } });
  const detail = await done;
  assert.equal(detail.run.status, 'failed');
  assert.match(detail.run.error ?? '', /more than 2 malformed rows \(maxBadRows\)/);
  assert.equal(detail.steps.find((s) => s.step === 'staging')?.status, 'skipped');
});
