import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { METRICS } from '../../src/core/metric-catalogue.ts';
import { catalogued } from '../../src/runtime/catalogued-metrics.ts';
import { pipelineExposition } from '../../src/runtime/pipeline-exposition.ts';

describe('pipelineExposition (what one pipeline pushes to its Pushgateway group)', () => {
  it('keeps the pipeline\'s catalogued series and its steps\' gauges; drops other pipelines\' and the control plane\'s', async () => {
    const m = createPromMetrics({ processMetrics: true });
    const c = catalogued(m);
    c.inc(METRICS.runsTotal, { pipeline: 'retail', status: 'succeeded' });
    c.inc(METRICS.runsTotal, { pipeline: 'always-fails', status: 'failed' });
    c.observe(METRICS.stepDuration, { pipeline: 'retail', step: 'raw', status: 'succeeded' }, 1.5);
    c.observe(METRICS.stepDuration, { pipeline: 'always-fails', step: 'fail', status: 'failed' }, 0.1);
    c.set(METRICS.runsQueued, {}, 3);
    m.setGauge('anomaly_quantity_count', 'Lines with Quantity > 1000', {}, 4);
    m.setGauge('rows_per_day', 'a step gauge of another pipeline', { pipeline: 'other' }, 1);
    const text = pipelineExposition(await m.render({ process: false }), 'retail');
    assert.match(text, /^sluice_runs_total\{pipeline="retail",status="succeeded"\} 1$/m);
    assert.match(text, /^sluice_step_duration_seconds_bucket\{le="\+Inf",[^}]*pipeline="retail"[^}]*\} 1$/m);
    assert.match(text, /^anomaly_quantity_count 4$/m);
    assert.doesNotMatch(text, /always-fails|pipeline="other"|sluice_runs_queued|process_/);
    // Each kept family keeps its HELP and TYPE; a family with nothing kept is gone entirely.
    assert.match(text, /# HELP sluice_runs_total Runs by final status\n# TYPE sluice_runs_total counter\n/);
    assert.doesNotMatch(text, /rows_per_day/);
    // A step gauge without a pipeline label cannot be told apart: it goes with every group.
    assert.doesNotMatch(pipelineExposition(await m.render({ process: false }), 'nobody'), /sluice_/);
    assert.match(await m.render(), /^process_cpu_seconds_total /m, 'the process metrics are on /metrics');
  });
});
