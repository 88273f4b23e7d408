import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { Violation } from './run-checks.ts';

/**
 * A materialization or check result is written when its event is applied, with the time the
 * worker stamped on the event. Two rows of one run alike down to that time are one event
 * applied twice (redelivered after a restart), not two attempts: attempts report at
 * different times.
 */
export async function checkRecordedOnce(store: MetadataStore): Promise<Violation[]> {
  const { materializations, checks } = await store.assets.history({});
  const twice = (keys: string[][], kind: string, what: string): Violation[] => {
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(JSON.stringify(k), (seen.get(JSON.stringify(k)) ?? 0) + 1);
    const perRun = new Map<string, string[]>();
    for (const [k, n] of seen) {
      if (n < 2) continue;
      const [runId, ...rest] = JSON.parse(k) as string[];
      perRun.set(runId, [...(perRun.get(runId) ?? []), `${rest.filter(Boolean).join(' ')} ×${n}`]);
    }
    return [...perRun].map(([runId, dupes]) => ({ kind, runId, message: `${what} recorded more than once: ${dupes.join('; ')}` }));
  };
  return [
    ...twice(materializations.map((m) => [m.runId, m.step, m.asset, m.partition ?? '', m.ts]), 'materialization-twice', 'materialization'),
    ...twice(checks.map((c) => [c.runId, c.step, c.asset, c.check, c.partition ?? '', c.ts]), 'check-result-twice', 'check result'),
  ];
}
