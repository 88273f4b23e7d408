import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALERTS } from '../../src/observability/alert-rules.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const NOT_INSTALLED = 3;

/** promtool or amtool from Debian's packages (scripts/prometheus.sh); null when not installed. */
function tool(name: 'promtool' | 'amtool', ...args: string[]): Promise<{ code: number; out: string } | null> {
  return new Promise((resolve) => {
    execFile('bash', [join(root, 'scripts/prometheus.sh'), name, ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
      resolve(code === NOT_INSTALLED ? null : { code, out: stdout + stderr });
    });
  });
}
const promtool = (...args: string[]) => tool('promtool', ...args);

// The generated rules through Prometheus' own tool: valid, and each alert unit-tested with
// series that make it fire (with its rendered annotations) and series that keep it quiet.
describe('the generated Prometheus rules (promtool)', () => {
  const skip = (t: { skip: (m: string) => void }) => {
    if (process.env.CI === 'true') assert.fail('promtool is not installed (scripts/prometheus.sh install)');
    t.skip('promtool is not installed here (scripts/prometheus.sh install)');
  };

  it('pass promtool check rules, in the plain file and the chart\'s copy', async (t) => {
    for (const file of ['deploy/prometheus/rules/sluice.yaml', 'deploy/helm/sluice/files/prometheus-rules.yaml']) {
      const r = await promtool('check', 'rules', file);
      if (!r) return skip(t);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${ALERTS.length} rules found`));
    }
  });

  it('pass promtool test rules: every alert fires on trouble and stays quiet otherwise', async (t) => {
    const r = await promtool('test', 'rules', 'test/fixtures/prometheus/sluice-rules.test.yaml');
    if (!r) return skip(t);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    const fixture = (await import('node:fs')).readFileSync(join(root, 'test/fixtures/prometheus/sluice-rules.test.yaml'), 'utf8');
    for (const a of ALERTS) assert.ok(fixture.includes(`alertname: ${a.alert}`), `${a.alert} has no promtool test`);
  });

  it('every dashboard panel\'s query is valid PromQL (checked by promtool as recording rules)', async (t) => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { DASHBOARDS } = await import('../../src/observability/dashboards.ts');
    // Grafana's variables, as Grafana would substitute them.
    const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '6h').replaceAll('$pipeline', 'retail');
    const exprs = DASHBOARDS.flatMap((d) => d.rows.flatMap((r) => r.panels.flatMap((p) => p.queries.map((q) => concrete(q.expr)))));
    const dir = mkdtempSync('/tmp/sluice-panels-');
    try {
      const rules = exprs.map((expr, i) => `      - record: panel_${i}\n        expr: ${JSON.stringify(expr)}`).join('\n');
      writeFileSync(join(dir, 'panels.yaml'), `groups:\n  - name: panels\n    rules:\n${rules}\n`);
      const r = await promtool('check', 'rules', join(dir, 'panels.yaml'));
      if (!r) return skip(t);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken expression is refused by promtool, naming the rule', async (t) => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/sluice-rules-');
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'groups:\n  - name: sluice\n    rules:\n      - alert: Broken\n        expr: sum by (pipeline (sluice_runs_total)\n');
      const r = await promtool('check', 'rules', join(dir, 'bad.yaml'));
      if (!r) return skip(t);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /Broken|parse error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Alertmanager example passes amtool check-config, and routes Sluice\'s alerts to the webhook', async (t) => {
    const file = 'deploy/alertmanager/alertmanager.yaml';
    const r = await tool('amtool', 'check-config', file);
    if (!r) return skip(t);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    for (const a of ALERTS) {
      const route = await tool('amtool', 'config', 'routes', 'test', `--config.file=${file}`, `alertname=${a.alert}`, `severity=${a.severity}`, 'pipeline=retail');
      assert.equal(route?.out.split('\n').filter((l) => l && !l.startsWith('Warning')).pop(), 'sluice-webhook', `${a.alert}: ${route?.out}`);
    }
  });
});
