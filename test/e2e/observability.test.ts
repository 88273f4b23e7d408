import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ALERTMANAGER_YAML } from '../../src/observability/alertmanager-config.ts';
import { DASHBOARDS, RETAIL_GAUGES } from '../../src/observability/dashboards.ts';
import { openBrowser, screenshot } from '../helpers/browser.ts';
import { freePort, startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { instantQuery, startAlertmanager, startPrometheus, type Daemon } from '../helpers/prometheus-stack.ts';
import { retailDashboardPage } from '../helpers/retail-dashboard-page.ts';
import { tempHome } from '../helpers/runtime.ts';
import { service } from '../helpers/services.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const installed = await run('bash', ['-c', 'command -v prometheus && command -v prometheus-alertmanager']).then(() => true, () => false);

interface Alert { labels: Record<string, string>; annotations: Record<string, string>; status: string }

// The generated alert rules and dashboards against real processes: Debian's Prometheus and
// Alertmanager (started here on loopback), the Pushgateway from scripts/, and `sluice dev`
// with its demo data (the retail sample, loaded by a backfill at start).
describe('observability end to end: Prometheus scrapes sluice dev and the Pushgateway, alerts reach a webhook', { timeout: 600_000 }, () => {
  const home = tempHome();
  let sluiceDev: DevServer | undefined;
  let prometheus: Daemon | undefined;
  let alertmanager: Daemon | undefined;
  let receiver: Server | undefined;
  const received: { at: number; alerts: Alert[] }[] = [];
  const sluice = (...args: string[]) => run(process.execPath, ['src/cli/main.ts', '--home', home.home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 180_000 })
    .then((r) => ({ code: 0, ...r }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));

  before(async () => {
    if (!installed) {
      if (process.env.CI === 'true') throw new Error('prometheus and prometheus-alertmanager are not installed (scripts/prometheus.sh install)');
      return;
    }
    const pushgateway = await service('pushgateway');
    if (!pushgateway) return;
    const hookPort = await freePort();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { if (body.length < 1 << 20) body += d; });
      req.on('end', () => {
        received.push({ at: Date.now(), alerts: (JSON.parse(body) as { alerts: Alert[] }).alerts });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(hookPort, '127.0.0.1', r));
    // The repository's routing as it is, with its webhook pointed at this test.
    const routing = ALERTMANAGER_YAML.replace('http://alert-receiver.monitoring.svc:8080/alerts', `http://127.0.0.1:${hookPort}/alerts`);
    assert.notEqual(routing, ALERTMANAGER_YAML);
    alertmanager = await startAlertmanager(routing);
    const port = await freePort();
    sluiceDev = await startServerProcess(['--home', home.home, 'dev', '--port', String(port)], { SLUICE_PUSHGATEWAY_URL: pushgateway });
    const pg = new URL(pushgateway);
    prometheus = await startPrometheus(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [${root}deploy/prometheus/rules/sluice.yaml]
alerting:
  alertmanagers: [{static_configs: [{targets: ['${new URL(alertmanager.url).host}']}]}]
scrape_configs:
  - job_name: sluice
    static_configs: [{targets: ['127.0.0.1:${port}']}]
  # Pushed groups keep their job ("sluice") and pipeline labels, as the chart's ServiceMonitor does.
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{targets: ['${pg.host}']}]
`);
  });
  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await sluiceDev?.stop();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
    home.cleanup();
  });

  it('a failing run of always-fails fires SluiceRunFailed, which Alertmanager delivers to the webhook', async (ctx) => {
    if (!prometheus) return ctx.skip('Prometheus, Alertmanager or the Pushgateway is not installed here');
    // Prometheus has seen the counter at 0 (Sluice declares it at start): increase() needs that.
    const before = 'sluice_runs_total{job="sluice",pipeline="always-fails",status="failed"} == 0';
    for (const deadline = Date.now() + 30_000; (await instantQuery(prometheus.url, before)).length === 0;) {
      assert.ok(Date.now() < deadline, 'Prometheus never scraped sluice dev\'s counters at 0');
      await sleep(250);
    }
    const r = await sluice('run', 'always-fails', '--json');
    assert.notEqual(r.code, 0, 'the run fails');
    assert.equal(JSON.parse(r.stdout).status, 'failed');
    const failedAt = Date.now();
    let alert: Alert | undefined;
    while (!alert && Date.now() - failedAt < 120_000) {
      alert = received.flatMap((x) => x.alerts).find((a) => a.labels.alertname === 'SluiceRunFailed' && a.status === 'firing');
      if (!alert) await sleep(250);
    }
    assert.ok(alert, `no SluiceRunFailed at the webhook within 120 s; Prometheus alerts: ${JSON.stringify(await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()).slice(0, 2000)}`);
    const delivered = received.find((x) => x.alerts.includes(alert!))!.at;
    console.log(`# SluiceRunFailed reached the webhook ${((delivered - failedAt) / 1000).toFixed(1)} s after the run failed (scrape 1 s, evaluation 1 s, Alertmanager group_wait 10 s)`);
    assert.equal(alert.labels.pipeline, 'always-fails');
    assert.equal(alert.labels.severity, 'warning');
    assert.equal(alert.annotations.runbook_url, 'docs/runbooks/SluiceRunFailed.md');
    assert.match(alert.annotations.description!, /run\(s\) of pipeline always-fails ended failed/);
  });

  it('after the retail demo load, every panel query of every generated dashboard returns a series; the warehouse panels return rows', async (ctx) => {
    if (!prometheus || !sluiceDev) return ctx.skip('Prometheus, Alertmanager or the Pushgateway is not installed here');
    for (const deadline = Date.now() + 300_000; !/demo data: the retail sample is loaded/.test(sluiceDev.output());) {
      assert.ok(Date.now() < deadline, `the demo data did not load:\n${sluiceDev.output().slice(-2000)}`);
      await sleep(500);
    }
    // An open event stream, as the UI holds one.
    const sse = new AbortController();
    void fetch(`${sluiceDev.url}/api/v1/events`, { signal: sse.signal }).catch(() => undefined);
    const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$pipeline', 'retail');
    const queries = DASHBOARDS.flatMap((d) => d.rows.flatMap((r) => r.panels.flatMap((p) => p.queries.map((q) => ({ where: `${d.uid} / ${p.title}`, expr: concrete(q.expr) })))));
    let empty: string[] = [];
    // Up to a few scrapes for the last pushes and counters to arrive.
    for (let i = 0; i < 30; i++) {
      empty = [];
      for (const q of queries) if ((await instantQuery(prometheus.url, q.expr)).length === 0) empty.push(`${q.where}: ${q.expr}`);
      if (empty.length === 0) break;
      await sleep(1_000);
    }
    sse.abort();
    assert.deepEqual(empty, [], 'panel queries without a series');
    console.log(`# ${queries.length} panel queries over ${DASHBOARDS.length} dashboards each returned at least one series`);

    const sqls = DASHBOARDS.flatMap((d) => d.rows.flatMap((r) => r.panels.flatMap((p) => (p.warehouse ? [{ title: p.title, sql: p.warehouse.sql }] : []))));
    assert.ok(sqls.length >= 2);
    const rowsOf: Record<string, Record<string, unknown>[]> = {};
    for (const s of sqls) {
      const sql = s.sql.replaceAll('$__fromTime', "toDateTime('2010-12-01 00:00:00')").replaceAll('$__toTime', 'now()');
      const r = await sluice('query', sql, '--format', 'json');
      assert.equal(r.code, 0, `${s.title}: ${r.stderr}`);
      rowsOf[s.title] = JSON.parse(r.stdout) as Record<string, unknown>[];
      assert.ok(rowsOf[s.title]!.length > 0, `${s.title} returned no rows`);
    }

    // The retail dashboard as a picture (no Grafana runs here): the gauges as Prometheus
    // returns them and the warehouse's sales per day, drawn in Chromium.
    const gauges = await Promise.all(RETAIL_GAUGES.map(async ([name, title, unit]) => ({ title, unit, value: Number((await instantQuery(prometheus!.url, `max(${name}{pipeline="retail"})`))[0]?.value[1]) })));
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await page.setContent(retailDashboardPage(gauges, rowsOf['Sales volume per day']!.map((r) => ({ day: String(r.time).slice(0, 10), value: Number(r.sales) }))));
      await screenshot(page, 'retail-dashboard');
    } finally {
      await browser.close();
    }
  });
});
