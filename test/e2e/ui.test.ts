import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { accessibilityProblems, CHROMIUM, openBrowser, screenshot } from '../helpers/browser.ts';
import { freePort, startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { tempHome } from '../helpers/runtime.ts';

// The web UI in Debian's Chromium against a real `sluice dev` on the demo data: every page
// opens, is accessible, and the actions work live, without a reload.
const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && process.env.CI !== 'true' ? 'chromium is not installed here (apt-get install chromium)' : false;

describe('web UI in sluice dev', { skip }, () => {
  const dir = tempHome('sluice-ui-');
  let server: DevServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    const port = await freePort();
    server = await startServerProcess(['--home', dir.home, 'dev', '--port', String(port)], { HOME: process.env.HOME ?? dir.home });
    // The pages are checked on the demo data: wait until its load has ended.
    for (const until = Date.now() + 120_000; !/demo data: the retail sample is loaded/.test(server.output()); ) {
      if (Date.now() > until) throw new Error(`the demo data did not load:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await openBrowser();
    context = browser.context;
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    dir.cleanup();
  });

  const open = async (path: string, heading: string) => {
    await page.goto(`${server.url}${path}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  const accessible = () => accessibleOn(page);
  const runStatus = () => page.getByLabel('run status');
  const launchDummy = async (records: number, rate: number) => {
    await open('/pipelines/dummy', 'dummy');
    await page.getByLabel('Day').fill('2024-01-02');
    await page.getByLabel('records').fill(String(records));
    await page.getByLabel('rate').fill(String(rate));
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  };

  it('serves the UI at / with the overview and its runs chart, and the API beside it', async () => {
    await open('/', 'Overview');
    await page.getByRole('img', { name: /^runs per hour by status, last 24 hours: (2[3-9]|[3-9]\d|\d{3,}) in all$/ }).waitFor();
    await page.getByRole('button', { name: '7d' }).click();
    await page.waitForURL(/window=7d/);
    await page.getByRole('img', { name: /^runs per 6 hours by status, last 7 days: / }).waitFor();
    await page.getByRole('button', { name: '24h' }).click();
    assert.equal((await page.request.get(`${server.url}/api/v1/pipelines`)).status(), 200);
    assert.equal((await page.request.get(`${server.url}/api/v1/nope`)).status(), 404, 'an unknown API path is a problem, not the page');
    await accessible();
  });

  it('lists the pipelines and draws a DAG with one named node per step', async () => {
    await open('/pipelines', 'Pipelines');
    for (const name of ['dummy', 'retail', 'always-fails']) await page.getByRole('link', { name, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Reload definitions' }).waitFor();
    await accessible();
    await screenshot(page, 'pipelines');
    await open('/pipelines/retail', 'retail');
    const graph = page.getByRole('group', { name: 'pipeline graph' });
    for (const step of ['raw', 'staging', 'vault', 'marts', 'quality']) await graph.getByRole('button', { name: step, exact: true }).waitFor();
    await accessible();
    await screenshot(page, 'pipeline-graph');
    // An admin turns the schedule off and on again; the state is the server's.
    const schedules = page.getByRole('table', { name: 'schedules' });
    await page.getByRole('button', { name: 'Disable schedule daily' }).click();
    await schedules.getByRole('cell', { name: 'disabled', exact: true }).waitFor();
    const listed = await (await page.request.get(`${server.url}/api/v1/schedules`)).json() as { items: { pipeline: string; enabled: boolean }[] };
    assert.equal(listed.items.find((x) => x.pipeline === 'retail')?.enabled, false);
    await page.getByRole('button', { name: 'Enable schedule daily' }).click();
    await schedules.getByRole('cell', { name: 'enabled', exact: true }).waitFor();
  });

  it('launches a dummy run from the form and watches it succeed live, with its logs', async () => {
    await launchDummy(40, 200);
    // No reload: the status word changes as the run's events arrive.
    await runStatus().filter({ hasText: /^succeeded$/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('log', { name: 'run logs' }).getByText('dummy: wrote 40 records').waitFor();
    await page.getByRole('list', { name: 'run timeline' }).getByLabel('load attempt 1: succeeded').waitFor();
    await accessible();
    await screenshot(page, 'run');
  });

  it('shows the API\'s message for an invalid param, naming it', async () => {
    await open('/pipelines/dummy', 'dummy');
    await page.getByLabel('rate').fill('-5');
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.getByRole('alert').filter({ hasText: /rate/ }).waitFor();
  });

  it('cancels a slow run', async () => {
    await launchDummy(100_000, 20);
    await runStatus().filter({ hasText: /^running$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await runStatus().filter({ hasText: /^cancelled$/ }).waitFor({ timeout: 30_000 });
  });

  it('retries a failed always-fails run from failure, and the retry links back', async () => {
    await open('/pipelines/always-fails', 'always-fails');
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const first = page.url().split('/').pop()!;
    await runStatus().filter({ hasText: /^failed$/ }).waitFor({ timeout: 30_000 });
    await page.getByText(/^fail attempt 2: .*this job always fails/).waitFor();
    await page.getByRole('button', { name: 'Retry from failure' }).click();
    await page.waitForURL((u) => /\/runs\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(first));
    await page.getByRole('link', { name: first.slice(0, 8) }).waitFor();
    await runStatus().filter({ hasText: /^failed$/ }).waitFor({ timeout: 30_000 });
  });

  it('lists runs with filters kept in the URL, and a deep link opens the same list', async () => {
    await open('/runs', 'Runs');
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    const rows = page.getByRole('table', { name: 'runs' }).getByRole('row');
    await rows.nth(1).waitFor();
    assert.ok((await rows.allTextContents()).slice(1).every((t) => t.includes('failed')), 'only failed runs are listed');
    await accessible();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
    assert.equal(await page.getByLabel('Status').inputValue(), 'failed');
    await page.getByLabel('Status').selectOption('');
    await screenshot(page, 'runs');
    await open('/', 'Overview');
    // The runs of this file so far are counted: the always-fails run and its retry failed.
    await page.getByRole('list', { name: 'runs in the last 24 hours by status' }).getByRole('link', { name: /^failed [1-9]\d*$/ }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'the overview shows no error');
    await screenshot(page, 'overview');
  });

  it('shows every demo day on the retail partition grid, backfills a selected range live, and colours every day by its outcome', async () => {
    // The demo data is a backfill of the sample's days: the default range is all of them.
    await open('/pipelines/retail/partitions', 'Partitions of retail');
    const grid = page.getByRole('table', { name: 'partitions' });
    const days = Array.from({ length: 23 }, (_, i) => `2010-12-${String(i + 1).padStart(2, '0')}`);
    // The shop was shut on the Saturdays (4, 11, 18 December): their raw step had no data.
    const saturdays = new Set(['2010-12-04', '2010-12-11', '2010-12-18']);
    for (const day of days) {
      await grid.getByRole('button', { name: saturdays.has(day) ? `${day} raw: no data` : `${day} quality: succeeded` }).waitFor();
    }
    assert.equal(await grid.getByLabel(/^2010-12-24 /).count(), 0, 'the grid ends at the newest day with a run');
    await open('/pipelines/retail/partitions?from=2010-12-01&to=2010-12-07', 'Partitions of retail');
    await grid.getByRole('button', { name: '2010-12-01', exact: true }).click();
    await grid.getByRole('button', { name: '2010-12-04', exact: true }).click({ modifiers: ['Shift'] });
    await page.getByText('Selected 2010-12-01 … 2010-12-04').waitFor();
    await page.getByRole('button', { name: 'Launch backfill' }).click();
    await page.getByRole('status', { name: 'backfill progress' }).filter({ hasText: /succeeded: 3 succeeded, 1 no data, 0 failed, 0 pending/ }).waitFor({ timeout: 120_000 });
    // The sample has no line of Saturday 2010-12-04: its raw step says no data, the rest are skipped for it.
    for (const day of ['2010-12-01', '2010-12-02', '2010-12-03']) {
      for (const step of ['raw', 'staging', 'vault', 'marts', 'quality']) await grid.getByRole('button', { name: `${day} ${step}: succeeded` }).waitFor();
    }
    await grid.getByRole('button', { name: '2010-12-04 raw: no data' }).waitFor();
    await grid.getByRole('button', { name: '2010-12-04 marts: no data' }).waitFor();
    await grid.getByRole('button', { name: '2010-12-05 raw: succeeded' }).waitFor();
    await accessible();
    await screenshot(page, 'partitions');
    await grid.getByRole('button', { name: '2010-12-02 vault: succeeded' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await runStatus().filter({ hasText: /^succeeded$/ }).waitFor();
  });

  it('shows the asset catalog and an asset\'s lineage from raw to marts, with its materializations', async () => {
    await open('/assets', 'Assets');
    await page.getByRole('row', { name: /^raw\.online_retail .*raw_not_empty passed/ }).waitFor();
    await screenshot(page, 'assets');
    await page.getByRole('link', { name: 'marts.fact_sales', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'marts.fact_sales' }).waitFor();
    const lineage = page.getByRole('group', { name: 'lineage graph' });
    for (const asset of ['raw.online_retail', 'staging.online_retail', 'vault.sat_invoice_line', 'marts.fact_sales']) {
      await lineage.getByRole('button', { name: asset, exact: true }).waitFor();
    }
    assert.equal(await lineage.getByRole('button', { name: 'quality.quarantine', exact: true }).count(), 0, 'the quarantine is no upstream of the facts');
    await page.getByRole('table', { name: 'materializations' }).getByRole('row').nth(1).waitFor();
    await accessible();
    await screenshot(page, 'lineage');
    await lineage.getByRole('button', { name: 'staging.online_retail', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'staging.online_retail' }).waitFor();
  });

  it('shows quality over partitions, and a run\'s quarantined rows from its page, filtered and as CSV', async () => {
    await open('/quality', 'Quality');
    await page.getByRole('img', { name: /^missing_customer_id_ratio value per partition, passed \d+ of 20$/ }).waitFor();
    await page.getByRole('img', { name: 'quality.data_quality lines per day, 20 days' }).waitFor();
    await page.getByRole('img', { name: 'quality.sales_summary volume per day, 20 days' }).waitFor();
    await page.getByRole('table', { name: 'gauges' }).getByRole('cell', { name: 'latest_sales_volume', exact: true }).waitFor();
    await accessible();
    await screenshot(page, 'quality');

    // A real day with two broken lines spliced in, loaded from the run form's source param.
    const src = join(dir.home, 'corrupted');
    mkdirSync(src);
    const lines = readFileSync(new URL('../../data/online-retail/2010-12-02.csv', import.meta.url), 'utf8').trimEnd().split('\n');
    lines.splice(5, 0, '536999,22752,SET 7 BABUSHKA NESTING BOXES,two,2010-12-02 08:26:00,7.65,17850.0,United Kingdom');
    lines.splice(9, 0, '536999,21730,GLASS STAR FROSTED T-LIGHT HOLDER,6,2010-12-02 08:26:00,4.25');
    writeFileSync(join(src, '2010-12-02.csv'), `${lines.join('\n')}\n`);
    const created = await page.request.post(`${server.url}/api/v1/runs`, { data: { pipeline: 'retail', partition: '2010-12-02', params: { source: src } } });
    assert.equal(created.status(), 201, await created.text());
    const runId = ((await created.json()) as { id: string }).id;
    await page.goto(`${server.url}/runs/${runId}`);
    await runStatus().filter({ hasText: /^succeeded$/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('table', { name: 'materializations' }).getByRole('cell', { name: 'raw.online_retail', exact: true }).waitFor();
    await page.getByRole('table', { name: 'check results' }).getByRole('cell', { name: 'raw.online_retail:raw_not_empty (error)' }).waitFor();
    await page.getByRole('link', { name: '2 quarantined rows of this run' }).click();
    await page.getByRole('heading', { level: 1, name: 'Quality' }).waitFor();
    await page.getByRole('status', { name: 'quarantined rows' }).filter({ hasText: `2 rows matching “${runId}”` }).waitFor();
    const table = page.getByRole('table', { name: 'quarantined rows' });
    await table.getByRole('cell', { name: /Quantity is not an integer: "two"/ }).waitFor();
    await table.getByRole('cell', { name: /expected 8 columns, got 6/ }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csv = readFileSync(await (await download).path(), 'utf8').trim().split('\n');
    assert.equal(csv.length, 3, csv.join('\n'));
    assert.match(csv[0]!, /^pipeline,source_file,line_no,raw_text,reason,run_id/);
    await accessible();
  });

  it('runs SQL from the editor with the schema beside it, and shows an engine error', async () => {
    await open('/sql', 'SQL');
    await page.getByRole('complementary', { name: 'warehouse schema' }).getByText('quality.data_quality', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByRole('status', { name: 'query result' }).filter({ hasText: /^\d+ rows? in \d+ ms$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('table', { name: 'query rows' }).getByRole('cell', { name: '2010-12-01', exact: true }).first().waitFor();
    await accessible();
    await screenshot(page, 'sql');
    const editor = page.getByRole('textbox', { name: 'SQL' });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT no_such_column FROM quality.data_quality');
    await page.keyboard.press('Control+Enter');
    await page.getByRole('alert').filter({ hasText: /no_such_column/ }).waitFor();
  });

  it('pings the workers with their round trip, and manages tokens with the secret shown once', async () => {
    await open('/workers', 'Workers');
    await page.getByRole('button', { name: 'Ping workers' }).click();
    await page.getByRole('status', { name: 'ping result' }).filter({ hasText: /^[1-9]\d* workers? answered$/ }).waitFor();
    await page.getByRole('table', { name: 'workers' }).getByRole('cell', { name: /^\d+\.\d ms$/ }).first().waitFor();
    await accessible();
    await screenshot(page, 'workers');
    await open('/tokens', 'Tokens');
    await page.getByLabel('Name').fill('ui-reader');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByRole('status', { name: 'new token' }).locator('pre').textContent()) ?? '';
    assert.match(secret, /^slc_[A-Za-z0-9_-]{20,}$/);
    const me = await page.request.get(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert.deepEqual(await me.json(), { name: 'ui-reader', role: 'view' }, 'the token shown works');
    await accessible();
    await screenshot(page, 'tokens');
    await page.getByRole('button', { name: 'Revoke ui-reader' }).click();
    await page.getByRole('table', { name: 'tokens' }).getByRole('cell', { name: /^revoked / }).waitFor();
    assert.equal((await page.request.get(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).status(), 401);
  });

  it('shows the live market stream on the Streams page: running, rows written, lag and throughput charts, partitions', async () => {
    await open('/streams', 'Streams');
    const table = page.getByRole('table', { name: 'streams' });
    await table.getByRole('row').filter({ hasText: 'market-live.connect' }).filter({ hasText: 'running' }).waitFor();
    // Rows written grow while the page polls: the stream is live.
    const written = async () => Number(((await table.getByRole('row').filter({ hasText: 'market-live.connect' }).getByRole('cell').nth(3).textContent()) ?? '0').replaceAll(',', ''));
    const first = await written();
    for (let i = 0; i < 100 && (await written()) <= first; i++) await page.waitForTimeout(200);
    assert.ok((await written()) > first, 'rows written went up while the page was open');
    await page.getByRole('img', { name: 'lag per stream over the last two minutes' }).waitFor();
    await page.getByRole('img', { name: 'rows written per second per stream over the last two minutes' }).waitFor();
    await page.getByRole('table', { name: 'partitions of market-live.connect' }).getByRole('cell', { name: 'sluice.data.book-snapshots' }).first().waitFor();
    await accessible();
    // A few seconds of points, so the picture shows lines rather than two dots.
    await page.waitForTimeout(10_000);
    await screenshot(page, 'streams');
  });

  it('answers an unknown page with the page-not-found view', async () => {
    await open('/no/such/page', 'Page not found');
  });
});

describe('web UI in sluice server, signed in with a view token', { skip }, () => {
  const dir = tempHome('sluice-ui-server-');
  let server: DevServer;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  let token = '';

  before(async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir.home };
    const created = await promisify(execFile)(process.execPath, ['src/cli/main.ts', '--home', dir.home, 'token', 'create', '--role', 'view', '--name', 'viewer'], { env, timeout: 60_000 });
    token = created.stdout.trim();
    server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', String(await freePort())], env);
    browser = await openBrowser();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    dir.cleanup();
  });

  it('asks for a token, refuses a wrong one with the API\'s reason, and signs in with a good one', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Sluice' }).waitFor();
    await page.getByLabel('API token').fill('tok_0000000000000000.wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await accessibleOn(page);
    await screenshot(page, 'sign-in');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByText('viewer · view').waitFor();
    assert.ok(!page.url().includes(token.slice(0, 12)), 'the token never enters the URL');
  });

  it('shows a view token no launch or reload control, and says why on a direct launch URL', async () => {
    await page.goto(`${server.url}/pipelines`);
    await page.getByRole('link', { name: 'dummy', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Reload definitions' }).count(), 0);
    await page.goto(`${server.url}/pipelines/dummy`);
    await page.getByRole('group', { name: 'pipeline graph' }).getByRole('button', { name: 'load', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Launch run' }).count(), 0);
    await page.goto(`${server.url}/pipelines/retail`);
    await page.getByRole('table', { name: 'schedules' }).getByRole('cell', { name: 'daily', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: /schedule daily/ }).count(), 0, 'only admin turns schedules on and off');
    assert.equal(await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Tokens' }).count(), 0, 'only admin sees Tokens');
    await page.goto(`${server.url}/tokens`);
    await page.getByRole('alert').filter({ hasText: 'Managing tokens needs the admin role' }).waitFor();
    await page.goto(`${server.url}/pipelines/dummy/launch`);
    await page.getByRole('alert').filter({ hasText: 'Launching a run needs the edit role; you are signed in as viewer with the view role.' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Launch run' }).count(), 0);
  });
});

async function accessibleOn(page: Page): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), []);
}
