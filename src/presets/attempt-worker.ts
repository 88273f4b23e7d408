import pino from 'pino';
import { launchRequestSchema } from '../core/commands.ts';
import { ValidationError, describeError } from '../core/errors.ts';
import { firstIssue } from '../core/zod-issue.ts';
import { WORKER_EXIT } from '../adapters/kubernetes/pod-outcome.ts';
import type { SluiceConfig } from './config.ts';
import { openOwnBus, openOwnWarehouse, openTopics } from './open-services.ts';
import { startWorker, type RunningWorker } from './start-worker.ts';

/** A worker that could not start (config, bus, warehouse): the launcher reports the attempt failed. */
const EXIT_SETUP = 2;
/** Stopped by SIGTERM (pod deleted, evicted, Job cancelled): 128 + 15, as a shell reports it. */
const EXIT_TERMINATED = 143;
const STOP_GRACE_MS = 2_000;

/**
 * The body of an attempt's pod (`sluice worker --attempt-env SLUICE_ATTEMPT`): runs exactly
 * the attempt in that variable, reporting on the bus as the warm workers do (cancel and stop
 * reach it the same way), and exits with a code that says whether it reported the end
 * (pod-outcome.ts, WORKER_EXIT). On SIGTERM (its pod deleted or evicted) it leaves without a
 * word: the launcher sees the pod go and reports why, and the attempt is retried per policy.
 */
export async function runAttemptWorker(envName: string, env: Readonly<Record<string, string | undefined>>, config: () => SluiceConfig): Promise<number> {
  let running: RunningWorker | null = null;
  process.once('SIGTERM', () => {
    process.on('unhandledRejection', () => undefined);
    const limit = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
    void Promise.race([running?.close(), limit]).finally(() => process.exit(EXIT_TERMINATED));
  });
  try {
    const raw = env[envName];
    if (!raw) throw new ValidationError(`--attempt-env ${envName}: the variable is not set`, envName);
    const parsed = launchRequestSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      throw new ValidationError(`--attempt-env ${envName}: ${field}: ${message}`, envName);
    }
    const request = parsed.data;
    const c = config();
    const id = `pod-${(env.HOSTNAME ?? request.attemptId).slice(0, 80)}`;
    const logger = pino({ level: c.logLevel, base: { worker: id, attempt: request.attemptId } }, pino.destination(2));
    const bus = await openOwnBus(c, id);
    const warehouse = await openOwnWarehouse(c);
    // The bus above is Kafka (openOwnBus refuses anything else), so these are too.
    const topics = await openTopics(c, false, id);
    running = await startWorker({ id, slots: 1, config: c, bus, topics, warehouse, logger, shared: false });
    const end = await running.worker.run(request);
    await running.close();
    if (end === null) return EXIT_SETUP;
    return WORKER_EXIT[end];
  } catch (err) {
    process.stderr.write(`sluice worker: ${describeError(err)}\n`);
    await running?.close().catch(() => undefined);
    return EXIT_SETUP;
  }
}
