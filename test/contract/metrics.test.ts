import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { metricsContract, sampleValue } from './metrics.contract.ts';

metricsContract('prom-client', () => createPromMetrics());

describe('prom-client metrics', () => {
  it('uses its own registry by default, not the global one nor another instance', async () => {
    const a = createPromMetrics();
    const b = createPromMetrics();
    a.setGauge('only_in_a', 'A', {}, 1);
    b.setGauge('only_in_a', 'B', {}, 2);
    assert.equal(sampleValue(await a.render(), 'only_in_a'), 1);
    assert.equal(sampleValue(await b.render(), 'only_in_a'), 2);
    assert.equal(globalRegistry.getSingleMetric('only_in_a'), undefined);
  });

  it('renders into a given registry', async () => {
    const registry = new Registry();
    const metrics = createPromMetrics({ registry });
    metrics.setGauge('shared', 'Shared', {}, 7);
    assert.equal(sampleValue(await registry.metrics(), 'shared'), 7);
    assert.equal(metrics.contentType, registry.contentType);
  });

  it('prefixes names and adds default labels', async () => {
    const metrics = createPromMetrics({ prefix: 'sluice_', defaultLabels: { env: 'test' } });
    metrics.incCounter('runs_total', 'Runs', { state: 'ok' });
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'sluice_runs_total', { state: 'ok', env: 'test' }), 1);
    assert.equal(sampleValue(text, 'runs_total'), undefined);
  });

  it('uses the given histogram buckets', async () => {
    const metrics = createPromMetrics({ buckets: [1, 10] });
    metrics.observe('size', 'Size', {}, 5);
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'size_bucket', { le: '1' }), 0);
    assert.equal(sampleValue(text, 'size_bucket', { le: '10' }), 1);
    assert.equal(sampleValue(text, 'size_bucket', { le: '+Inf' }), 1);
  });

  it('reports a name prom-client refuses, naming it', () => {
    const metrics = createPromMetrics();
    assert.throws(() => metrics.setGauge('bad-name', 'Bad', {}, 1), /bad-name/);
  });
});
