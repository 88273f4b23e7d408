import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Labels, Metrics } from '../../src/ports/metrics.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Parses Prometheus text exposition format into samples (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] as string, labels, value: parseValue(match[3] as string) });
  }
  return samples;
}

/**
 * The value of the one sample named `name` whose labels include `labels` (extra labels,
 * like the `job` a Pushgateway adds, are allowed); undefined when there is none.
 */
export function sampleValue(text: string, name: string, labels: Labels = {}): number | undefined {
  const found = parseExposition(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(found.length <= 1, `several samples match ${name}${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
  return found[0]?.value;
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

/** What every Metrics adapter must do; `open` returns a fresh, empty instance. */
export function metricsContract(name: string, open: () => Metrics | Promise<Metrics>): void {
  describe(`Metrics contract: ${name}`, () => {
    it('renders a gauge with its labels, help and type', async () => {
      const metrics = await open();
      metrics.setGauge('anomaly_unit_price_count', 'Rows with an anomalous unit price', { pipeline: 'retail' }, 9);
      const text = await metrics.render();
      assert.equal(sampleValue(text, 'anomaly_unit_price_count', { pipeline: 'retail' }), 9);
      assert.match(text, /^# HELP anomaly_unit_price_count Rows with an anomalous unit price$/m);
      assert.match(text, /^# TYPE anomaly_unit_price_count gauge$/m);
    });

    it('replaces a gauge value and keeps label sets apart', async () => {
      const metrics = await open();
      metrics.setGauge('rows', 'Rows', { table: 'a' }, 1);
      metrics.setGauge('rows', 'Rows', { table: 'b' }, 2);
      metrics.setGauge('rows', 'Rows', { table: 'a' }, 5);
      const text = await metrics.render();
      assert.equal(sampleValue(text, 'rows', { table: 'a' }), 5);
      assert.equal(sampleValue(text, 'rows', { table: 'b' }), 2);
    });

    it('adds to counters, by 1 unless told otherwise', async () => {
      const metrics = await open();
      metrics.incCounter('events_total', 'Events', { kind: 'x' });
      metrics.incCounter('events_total', 'Events', { kind: 'x' }, 2.5);
      metrics.incCounter('events_total', 'Events', { kind: 'y' }, 4);
      const text = await metrics.render();
      assert.equal(sampleValue(text, 'events_total', { kind: 'x' }), 3.5);
      assert.equal(sampleValue(text, 'events_total', { kind: 'y' }), 4);
      assert.match(text, /^# TYPE events_total counter$/m);
    });

    it('counts histogram observations into cumulative buckets', async () => {
      const metrics = await open();
      const observed = [0.003, 0.3, 3, 3];
      for (const v of observed) metrics.observe('step_seconds', 'Step duration', { step: 's1' }, v);
      const text = await metrics.render();
      assert.match(text, /^# TYPE step_seconds histogram$/m);
      assert.equal(sampleValue(text, 'step_seconds_count', { step: 's1' }), 4);
      assert.ok(Math.abs((sampleValue(text, 'step_seconds_sum', { step: 's1' }) ?? NaN) - 6.303) < 1e-9);
      const buckets = parseExposition(text).filter((s) => s.name === 'step_seconds_bucket' && s.labels.step === 's1');
      assert.ok(buckets.length >= 2, 'at least one finite bucket and +Inf');
      for (const bucket of buckets) {
        const le = bucket.labels.le === '+Inf' ? Infinity : Number(bucket.labels.le);
        assert.equal(bucket.value, observed.filter((v) => v <= le).length, `bucket le=${bucket.labels.le}`);
      }
      assert.ok(buckets.some((b) => b.labels.le === '+Inf'));
    });

    it('accepts the same label names in any order', async () => {
      const metrics = await open();
      metrics.setGauge('lag', 'Lag', { topic: 't', group: 'g' }, 1);
      metrics.setGauge('lag', 'Lag', { group: 'g', topic: 't' }, 2);
      assert.equal(sampleValue(await metrics.render(), 'lag', { topic: 't', group: 'g' }), 2);
    });

    it('renders metrics without labels', async () => {
      const metrics = await open();
      metrics.setGauge('up_since', 'Start time', {}, 1700000000);
      assert.equal(sampleValue(await metrics.render(), 'up_since'), 1700000000);
    });

    it('escapes label values', async () => {
      const metrics = await open();
      const odd = 'say "hi"\\ \nbye';
      metrics.setGauge('odd', 'Odd labels', { v: odd }, 1);
      assert.equal(sampleValue(await metrics.render(), 'odd', { v: odd }), 1);
    });

    it('throws, naming the metric, when label names change', async () => {
      const metrics = await open();
      metrics.setGauge('quarantined_rows', 'Rows', { pipeline: 'retail' }, 1);
      assert.throws(() => metrics.setGauge('quarantined_rows', 'Rows', { pipeline: 'retail', step: 'x' }, 1), /quarantined_rows/);
      assert.throws(() => metrics.setGauge('quarantined_rows', 'Rows', {}, 1), /quarantined_rows/);
      metrics.incCounter('runs_total', 'Runs', {});
      assert.throws(() => metrics.incCounter('runs_total', 'Runs', { state: 'ok' }), /runs_total/);
      // The failed calls must not have corrupted the metric.
      assert.equal(sampleValue(await metrics.render(), 'quarantined_rows', { pipeline: 'retail' }), 1);
    });

    it('throws, naming the metric, when one name is used as two kinds', async () => {
      const metrics = await open();
      metrics.setGauge('dual', 'Dual', {}, 1);
      assert.throws(() => metrics.incCounter('dual', 'Dual', {}), /dual/);
      assert.throws(() => metrics.observe('dual', 'Dual', {}, 1), /dual/);
    });

    it('declares a Prometheus content type', async () => {
      const metrics = await open();
      assert.match(metrics.contentType, /^(text\/plain|application\/openmetrics-text)/);
    });
  });
}
