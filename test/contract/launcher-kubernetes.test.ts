import { test } from 'node:test';
import { kubernetesStack } from '../helpers/kubernetes.ts';
import { service } from '../helpers/services.ts';
import { launcherContract } from './launcher.contract.ts';

// The Launcher contract on the Kubernetes launcher: each attempt a Job on the real API
// server (scripts/kubernetes.sh), its pod run by the pod runner, the worker in it on Kafka
// and the ClickHouse server. Off CI, a missing service skips it.
let missing: string | null = null;
for (const name of ['kubernetes', 'kafka', 'clickhouse'] as const) {
  try {
    await service(name);
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    missing = `${name} is not available here (${(err as Error).message.slice(0, 200)})`;
    break;
  }
}

if (missing) {
  test('Launcher contract: Kubernetes Jobs', (t) => t.skip(missing ?? ''));
} else {
  launcherContract('Kubernetes Jobs (real API server, pod runner)', async () => {
    const stack = await kubernetesStack(undefined, { heartbeatMs: 200 });
    if (!stack) throw new Error('the Kubernetes stack did not start');
    return { launcher: stack.launcher, bus: stack.bus, close: () => stack.close() };
  });
}
