// Dispatch overhead and no-op step throughput, next to a bare loop of async calls in the
// same process. Overhead of a step = from its predecessor's `attempt.succeeded` reaching
// the bus to its own `attempt.started` reaching the bus: coordinator, store writes,
// launcher and worker pick-up together.
import { fileURLToPath } from 'node:url';
import { TOPICS } from '../src/ports/event-bus.ts';
import type { Runtime } from '../src/presets/runtime.ts';
import { CHAIN, FAN } from './pipelines/noop.ts';

export const BENCH_PIPELINES = fileURLToPath(new URL('./pipelines/', import.meta.url));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function bareLoop(n: number): Promise<number> {
  const noop = async () => undefined;
  const t = performance.now();
  for (let i = 0; i < n; i++) await noop();
  return n / ((performance.now() - t) / 1000);
}

export async function benchDispatch(rt: Runtime, label: string, rounds = 3): Promise<Record<string, number | string>> {
  const arrivals = new Map<string, number>();
  const sub = await rt.services.bus.subscribe(TOPICS.events, { group: `bench-${Date.now()}` }, (m) => {
    const e = m.value as { type?: string; runId?: string; step?: string };
    if (e.type === 'attempt.started' || e.type === 'attempt.succeeded') arrivals.set(`${e.runId}/${e.step}/${e.type}`, performance.now());
  });
  try {
    const overheads: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const { run, done } = await rt.coordinator.submit({ pipeline: 'bench-noop-chain' });
      const d = await done;
      if (d.run.status !== 'succeeded') throw new Error(`chain run ${d.run.status}: ${d.run.error}`);
      await new Promise((res) => setTimeout(res, 50));
      for (let i = 1; i < CHAIN; i++) {
        const prev = arrivals.get(`${run.id}/s${i - 1}/attempt.succeeded`);
        const next = arrivals.get(`${run.id}/s${i}/attempt.started`);
        if (prev !== undefined && next !== undefined) overheads.push(next - prev);
      }
    }
    const t = performance.now();
    const fans = await Promise.all(Array.from({ length: rounds }, () => rt.coordinator.submit({ pipeline: 'bench-noop-fan' })));
    const results = await Promise.all(fans.map((f) => f.done));
    const secs = (performance.now() - t) / 1000;
    if (results.some((x) => x.run.status !== 'succeeded')) throw new Error('fan run failed');
    const stepsPerSec = (rounds * FAN) / secs;
    const bare = await bareLoop(100_000);
    return {
      preset: label,
      samples: overheads.length,
      dispatch_p50_ms: pct(overheads, 50),
      dispatch_p99_ms: pct(overheads, 99),
      noop_steps_per_s: Math.round(stepsPerSec),
      bare_async_calls_per_s: Math.round(bare),
      ratio_steps_vs_bare: stepsPerSec / bare,
    };
  } finally {
    await sub.close();
  }
}
