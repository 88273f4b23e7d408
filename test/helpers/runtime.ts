import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/presets/config.ts';
import { openRuntime, type Runtime } from '../../src/presets/runtime.ts';
import { numbers, RETAIL_COUNTS_SQL } from './retail-totals.ts';

/** A fresh state directory that is removed with `cleanup()`. */
export function tempHome(prefix = 'sluice-test-'): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** The embedded runtime on a given home, with no environment leaking in from the shell. */
export function openTestRuntime(home: string, options: { pipelines?: string[]; env?: Record<string, string> } = {}): Promise<Runtime> {
  const config = loadConfig({ env: options.env ?? {}, cwd: process.cwd(), home, pipelines: options.pipelines, logLevel: 'silent' });
  return openRuntime(config);
}

/** Counts that must not change when a partition is rerun. */
export async function retailCounts(rt: Runtime): Promise<Record<string, number>> {
  const [r] = await rt.services.warehouse.query<Record<string, unknown>>(RETAIL_COUNTS_SQL);
  return numbers(r);
}
