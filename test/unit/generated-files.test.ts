import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { METRICS } from '../../src/core/metric-catalogue.ts';
import { ALERTS, runbookPath } from '../../src/observability/alert-rules.ts';
import { DASHBOARDS, RETAIL_GAUGES } from '../../src/observability/dashboards.ts';
import { generatedFiles } from '../../src/observability/generated-files.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('files generated from the metric catalogue', () => {
  it('are committed as the code generates them (run `npm run generate` after a change)', () => {
    for (const [path, text] of Object.entries(generatedFiles())) {
      const file = join(root, path);
      assert.ok(existsSync(file), `${path} is missing: run npm run generate`);
      assert.equal(readFileSync(file, 'utf8'), text, `${path} differs from what the code generates: run npm run generate`);
    }
  });

  it('every alert has a runbook saying what it means, how to confirm it, and what to do', () => {
    for (const a of ALERTS) {
      const path = join(root, runbookPath(a.alert));
      assert.ok(existsSync(path), `no runbook for ${a.alert} at ${runbookPath(a.alert)}`);
      const text = readFileSync(path, 'utf8');
      assert.match(text, new RegExp(`^# ${a.alert}\\n`), `${a.alert}'s runbook starts with its name`);
      for (const part of ['**What it means.**', '**Confirm.**', '**Act.**']) assert.ok(text.includes(part), `${a.alert}'s runbook has ${part}`);
    }
    assert.equal(new Set(ALERTS.map((a) => a.alert)).size, ALERTS.length, 'alert names are unique');
  });

  it('alerts watch only catalogued metrics (histograms by their _bucket series)', () => {
    const known = new Set(Object.values(METRICS).flatMap((d) => (d.type === 'histogram' ? [`${d.name}_bucket`, `${d.name}_sum`, `${d.name}_count`] : [d.name])));
    for (const a of ALERTS) {
      for (const name of a.expr.match(/\bsluice_[a-z_]+/g) ?? []) assert.ok(known.has(name), `${a.alert} watches ${name}, which is not in the catalogue`);
    }
  });

  it('dashboards query only catalogued metrics and the retail pipeline\'s gauges, each panel on the Prometheus variable', () => {
    const known = new Set([
      ...Object.values(METRICS).flatMap((d) => (d.type === 'histogram' ? [`${d.name}_bucket`, `${d.name}_count`, `${d.name}_sum`] : [d.name])),
      ...RETAIL_GAUGES.map(([name]) => name),
    ]);
    assert.equal(new Set(DASHBOARDS.map((d) => d.uid)).size, DASHBOARDS.length);
    for (const d of DASHBOARDS) {
      const json = JSON.parse(readFileSync(join(root, `deploy/grafana/dashboards/${d.uid}.json`), 'utf8')) as { panels: { type: string; datasource?: { uid: string }; targets?: { expr?: string; rawSql?: string }[] }[] };
      const panels = json.panels.filter((p) => p.type !== 'row');
      assert.equal(panels.length, d.rows.reduce((n, r) => n + r.panels.length, 0), `${d.uid}: every panel is in the JSON`);
      for (const p of panels) {
        if (p.targets?.[0]?.rawSql) {
          assert.equal(p.datasource?.uid, '${warehouse}', 'SQL goes to the ClickHouse variable');
          continue;
        }
        assert.equal(p.datasource?.uid, '${datasource}');
        for (const t of p.targets ?? []) {
          for (const name of t.expr!.match(/\b(sluice_[a-z_]+|anomaly_[a-z_]+|missing_[a-z_]+|latest_[a-z_]+)\b/g) ?? []) assert.ok(known.has(name), `${d.uid} queries ${name}, which nothing exports`);
        }
      }
    }
  });

  it('the catalogue names each series once, in Prometheus\' syntax, counters ending in _total', () => {
    const defs = Object.values(METRICS);
    assert.equal(new Set(defs.map((d) => d.name)).size, defs.length);
    for (const d of defs) {
      assert.match(d.name, /^sluice_[a-z][a-z0-9_]*$/);
      assert.equal(d.name.endsWith('_total'), d.type === 'counter', `${d.name}: a counter ends in _total, nothing else does`);
      assert.deepEqual([...d.labels], [...d.labels].sort(), `${d.name}: labels in name order`);
    }
  });
});
