// `npm run chaos -- [--seed S] [--injections N] [--bus memory|kafka] [--report FILE]`:
// a fault campaign against a real control plane; exit 1 on any violation.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stopServices } from '../helpers/services.ts';
import { brokerPid, postgresRunning } from './broker.ts';
import { runCampaign } from './campaign.ts';
import { formatReport } from './report.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    injections: { type: 'string', default: '50' },
    bus: { type: 'string', default: 'memory' },
    report: { type: 'string' },
    'checkpoint-every': { type: 'string', default: '25' },
    'shared-broker': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
  strict: true,
});

const seed = Number(values.seed);
const injections = Number(values.injections);
const checkpointEvery = Number(values['checkpoint-every']);
if (!Number.isSafeInteger(seed) || !Number.isInteger(injections) || injections < 1 || !Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
  process.stderr.write('usage: npm run chaos -- [--seed S] [--injections N] [--bus memory|kafka] [--report FILE] [--checkpoint-every K] [--shared-broker] [--keep]\n');
  process.exit(2);
}
if (values.bus !== 'memory' && values.bus !== 'kafka') {
  process.stderr.write(`--bus must be memory or kafka, got ${values.bus}\n`);
  process.exit(2);
}
// A broker that was already up belongs to someone else's test run on this machine: it is
// killed only when asked for, so the campaign does not break other people's tests.
const brokerWasUp = brokerPid() !== null;
const postgresWasUp = postgresRunning();
const brokerKills = values.bus === 'kafka' && (!brokerWasUp || values['shared-broker']);
if (values.bus === 'kafka' && !brokerKills) {
  process.stderr.write('the Kafka broker was already running (someone else\'s?): no broker kills (--shared-broker to kill it anyway)\n');
}

const result = await runCampaign({
  seed, injections, bus: values.bus, brokerKills, checkpointEvery, keepState: values.keep,
  log: values.quiet ? undefined : (line) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`),
});
// What the campaign started, it stops; what was already up stays up.
if (values.bus === 'kafka') await stopServices([...(brokerWasUp ? [] : ['kafka' as const]), ...(postgresWasUp ? [] : ['postgres' as const])]);
process.stdout.write(`${formatReport(result)}\n`);
if (values.report) writeFileSync(values.report, `${JSON.stringify(result, null, 2)}\n`);
process.exitCode = result.violations.length > 0 ? 1 : 0;
