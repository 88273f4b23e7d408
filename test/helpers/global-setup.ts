import { stopServices } from './services.ts';

// Services are started lazily by the tests that need them and shared by all test files;
// the run stops them once at the end.
export async function globalTeardown(): Promise<void> {
  await stopServices(['postgres', 'pushgateway', 'kafka', 'minio', 'clickhouse', 'kubernetes']);
}

// The UI is built once, before the test files start their servers, so no test pays for the
// build or races another to it.
export async function globalSetup(): Promise<void> {
  const { ensureUiBundle } = await import('../../src/presets/ui-bundle.ts');
  const ui = await ensureUiBundle();
  if (ui.dir === null) throw new Error(`the web UI did not build: ${ui.reason}`);
}
