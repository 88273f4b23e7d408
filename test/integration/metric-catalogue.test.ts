import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { METRICS } from '../../src/core/metric-catalogue.ts';
import { openTestRuntime, tempHome } from '../helpers/runtime.ts';

const dir = tempHome();
after(() => dir.cleanup());

test('what /metrics exports under sluice_ after runs is exactly what the catalogue declares: names, kinds, help and labels', async () => {
  const rt = await openTestRuntime(dir.home);
  let text: string;
  try {
    await (await rt.coordinator.submit({ pipeline: 'dummy', partition: '2024-01-02', params: { records: 20 } })).done;
    await (await rt.coordinator.submit({ pipeline: 'always-fails', params: {} })).done;
    text = await rt.services.metrics.render();
  } finally {
    await rt.close();
  }
  const byName = new Map(Object.values(METRICS).map((d) => [d.name, d]));
  const seen = new Set<string>();
  for (const [, name, help] of text.matchAll(/^# HELP (sluice_\S+) (.*)$/gm)) {
    const d = byName.get(name!);
    assert.ok(d, `${name} is exported but not in the catalogue`);
    seen.add(name!);
    assert.equal(help, d.help);
    assert.match(text, new RegExp(`^# TYPE ${name} ${d.type}$`, 'm'));
    const sample = new RegExp(`^${name}${d.type === 'histogram' ? '_count' : ''}\\{([^}]*)\\}`, 'm').exec(text);
    const labels = sample ? [...sample[1]!.matchAll(/(\w+)="/g)].map((m) => m[1]).sort() : [];
    assert.deepEqual(labels, [...d.labels], `${name}'s labels`);
  }
  for (const must of [METRICS.runsTotal, METRICS.stepDuration, METRICS.eventsLag, METRICS.attemptRetries]) assert.ok(seen.has(must.name), `${must.name} after a run`);
});
