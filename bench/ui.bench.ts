// The web UI under load, in Debian's Chromium, against an embedded control plane in this
// process: the runs list over 10,000 stored runs, a run page following a 200-step run with
// 20,000 log lines, and the dispatch overhead with and without that page open.
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Runtime } from '../src/presets/runtime.ts';
import { ensureUiBundle } from '../src/presets/ui-bundle.ts';
import { createApi } from '../src/server/create-api.ts';
import { openBrowser } from '../test/helpers/browser.ts';
import { benchDispatch } from './dispatch.bench.ts';
import { UI_LINES_PER_STEP, UI_STEPS } from './pipelines/ui-logs.ts';

const RUNS = 10_000;
const SAMPLES = 5;
const RUN_ROWS = 'table[aria-label="runs"] tbody tr[aria-rowindex="2"]';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Recorded in the page from its first script on: when the first run row appears (ms since
// navigation start) and every long task (the main thread busy for over 50 ms).
const PROBE = `(() => {
  window.__bench = { firstRow: null, longTasks: [] };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.longTasks.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((_, o) => {
    if (document.querySelector(${JSON.stringify(RUN_ROWS)})) { window.__bench.firstRow = performance.now(); o.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
})()`;

interface Probe { firstRow: number | null; longTasks: [number, number][] }
const probe = (page: Page) => page.evaluate(() => (globalThis as unknown as { __bench: Probe }).__bench);

/** Stores `RUNS` finished runs of the chain pipeline, spread over the last week, in batches. */
async function seedRuns(rt: Runtime): Promise<void> {
  const now = Date.now();
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'no_data', 'cancelled'] as const;
  for (let i = 0; i < RUNS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => rt.services.metadata.runs.create({
      id: randomUUID(), pipeline: 'bench-noop-chain', partition: null, params: {},
      status: statuses[(i + j) % statuses.length], createdAt: new Date(now - (i + j) * 60_000).toISOString(),
    })));
  }
}

export async function benchUi(rt: Runtime): Promise<Record<string, number | string>> {
  const ui = await ensureUiBundle();
  if (ui.dir === null) throw new Error(`no UI to measure: ${ui.reason}`);
  await seedRuns(rt);
  const app = createApi({
    services: rt.services, registry: rt.registry, coordinator: rt.coordinator, query: rt.query, version: 'bench',
    authenticate: async () => ({ role: 'admin', name: 'bench' }), uiDir: ui.dir,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(PROBE);

    // 1. /runs: first page of the newest runs, in the browser, against the API call alone.
    await page.goto(`${url}/runs`);
    await page.waitForSelector(RUN_ROWS);
    const firstRow: number[] = [];
    const apiOnly: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      await page.goto(`${url}/runs`);
      await page.waitForSelector(RUN_ROWS);
      firstRow.push((await probe(page)).firstRow ?? Number.NaN);
      const t = performance.now();
      await (await fetch(`${url}/api/v1/runs?limit=100`)).json();
      apiOnly.push(performance.now() - t);
    }
    // Scrolling stays virtualized: rows drawn after scrolling through every loaded page.
    for (let i = 0; i < 10; i++) {
      await page.locator('div.virtual').evaluate((el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForTimeout(150);
    }
    const loaded = await page.locator('table[aria-label="runs"]').getAttribute('aria-rowcount');
    const drawn = await page.locator('table[aria-label="runs"] tbody tr:not(.spacer)').count();

    // 3a. Dispatch overhead beside a running 200-step run, no UI open.
    const quiet = await rt.coordinator.submit({ pipeline: 'bench-ui-logs' });
    const without = await benchDispatch(rt, 'no UI tab');
    await quiet.done;

    // 2 and 3b. The same run again with its page open from the start, following it live.
    await page.goto(`${url}/`);
    const watched = await rt.coordinator.submit({ pipeline: 'bench-ui-logs' });
    await page.goto(`${url}/runs/${watched.run.id}`);
    const withTab = await benchDispatch(rt, 'one UI tab on the run');
    const done = await watched.done;
    if (done.run.status !== 'succeeded') throw new Error(`bench-ui-logs ${done.run.status}: ${done.run.error}`);
    const lines = UI_STEPS * UI_LINES_PER_STEP;
    await page.getByText(`${lines.toLocaleString('en-US')} of ${lines.toLocaleString('en-US')} lines`).waitFor({ timeout: 120_000 });
    await page.getByLabel('run status').filter({ hasText: /^succeeded$/ }).waitFor({ timeout: 60_000 });
    const tasks = (await probe(page)).longTasks.map(([, d]) => d);
    const longest = (await probe(page)).longTasks.filter(([, d]) => d > 100).map(([t, d]) => `${d} ms at ${t} ms`).join(', ');
    const logRows = await page.locator('[aria-label="run logs"] .log').count();
    return {
      runs_in_store: RUNS,
      runs_first_row_median_ms: median(firstRow),
      runs_first_row_samples_ms: firstRow.map((x) => Math.round(x)).join(' '),
      runs_api_page_median_ms: median(apiOnly),
      ratio_first_row_vs_api: median(firstRow) / median(apiOnly),
      runs_loaded_after_scroll: Number(loaded) - 1,
      runs_rows_drawn: drawn,
      run_page_log_lines: lines,
      run_page_log_rows_drawn: logRows,
      run_page_long_tasks: tasks.length,
      run_page_long_tasks_over_100ms: tasks.filter((d) => d > 100).length,
      run_page_longest_task_ms: tasks.length ? Math.max(...tasks) : 0,
      run_page_tasks_over_100ms_at: longest || 'none',
      dispatch_p50_ms_no_tab: without.dispatch_p50_ms!,
      dispatch_p50_ms_with_tab: withTab.dispatch_p50_ms!,
      ratio_dispatch_with_vs_without_tab: Number(withTab.dispatch_p50_ms) / Number(without.dispatch_p50_ms),
    };
  } finally {
    await browser.close();
    await app.close();
  }
}
