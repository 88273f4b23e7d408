import type { Command } from 'commander';
import pino from 'pino';
import { NotSupportedError, ValidationError } from '../../core/errors.ts';
import { loadConfig, type SluiceConfig } from '../../presets/config.ts';
import { openOwnBus, openOwnWarehouse, openTopics } from '../../presets/open-services.ts';
import { startWorker } from '../../presets/start-worker.ts';
// Types only from ../context.ts: its runtime imports open every embedded store, which a
// worker process must not pay for at start.
import type { GlobalOptions } from '../context.ts';

const print = (s: string): void => void process.stdout.write(`${s}\n`);

const EMBEDDED_REFUSAL =
  'sluice worker runs beside a cluster control plane and needs Kafka and a ClickHouse server: ' +
  'chDB and the in-process bus live inside one process and cannot be shared. ' +
  'For local work use `sluice dev`, which runs its own worker processes.';

function clusterConfig(globals: GlobalOptions): SluiceConfig {
  const config = loadConfig({ env: process.env, cwd: process.cwd(), home: globals.home, pipelines: globals.pipelines, logLevel: globals.verbose ? 'debug' : 'info' });
  if (config.warehouse.kind !== 'clickhouse' || config.bus.kind !== 'kafka') {
    const missing = [config.warehouse.kind !== 'clickhouse' ? 'the warehouse is chDB (set SLUICE_WAREHOUSE_URL)' : null, config.bus.kind === 'kafka' ? null : 'no Kafka bus is configured (SLUICE_KAFKA_BROKERS)']
      .filter(Boolean)
      .join('; ');
    throw new NotSupportedError(`${EMBEDDED_REFUSAL} (${missing})`);
  }
  return config;
}

/** `sluice worker`: a standalone worker for cluster mode (Kafka + ClickHouse server). */
async function runClusterWorker(globals: GlobalOptions, o: { slots: string; id?: string; attemptEnv?: string }): Promise<void> {
  if (o.attemptEnv !== undefined) {
    const { runAttemptWorker } = await import('../../presets/attempt-worker.ts');
    process.exitCode = await runAttemptWorker(o.attemptEnv, process.env, () => clusterConfig(globals));
    return;
  }
  const slots = Number(o.slots);
  if (!Number.isInteger(slots) || slots < 1) throw new ValidationError(`--slots must be a positive integer, got ${o.slots}`, 'slots');
  const config = clusterConfig(globals);
  const id = o.id ?? `w-${process.pid}-${Date.now().toString(36)}`;
  const logger = pino({ level: config.logLevel, base: { worker: id } }, pino.destination(2));
  const bus = await openOwnBus(config, id);
  const warehouse = await openOwnWarehouse(config);
  const topics = await openTopics(config, false, id);
  const running = await startWorker({ id, slots, config, bus, topics, warehouse, logger });
  print(`Sluice worker ${id} ready: ${slots} slot(s), bus ${bus.kind}, warehouse ${warehouse.kind}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  print('stopping: cancelling running attempts…');
  await running.close();
}

export function registerWorker(program: Command, globals: () => GlobalOptions): void {
  program
    .command('worker')
    .description('run step attempts for a cluster control plane (Kafka + ClickHouse server); not for embedded mode')
    .option('--slots <n>', 'attempts run at once', '1')
    .option('--id <id>', 'worker id (default: derived from the pid)')
    .option('--attempt-env <name>', 'run the one attempt in this env variable (JSON) and exit: the body of a Kubernetes Job')
    .action((o: { slots: string; id?: string; attemptEnv?: string }) => runClusterWorker(globals(), o));
}
