import { stopServices } from './services.ts';

// Services are started lazily by the tests that need them and shared by all test files;
// the run stops them once at the end.
export async function globalTeardown(): Promise<void> {
  await stopServices(['postgres', 'pushgateway', 'kafka', 'minio', 'clickhouse']);
}
