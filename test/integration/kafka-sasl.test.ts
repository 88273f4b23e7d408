import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AclOperations, AclPermissionTypes, Admin, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { parse } from 'yaml';
import { createKafkaDataTopics } from '../../src/adapters/kafka/kafka-data-topics.ts';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import { probeKafka } from '../../src/adapters/kafka/kafka-probe.ts';
import { TOPICS, type EventBus } from '../../src/ports/event-bus.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { KAFKA_SCRAM, service } from '../helpers/services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const quiet = () => undefined;
type User = keyof typeof KAFKA_SCRAM.users;

interface AppAcl { topic?: string; topicPrefix?: string; group?: string; groupPrefix?: string; operations: string[] }

// The Kafka bus over SASL_PLAINTEXT with SCRAM-SHA-512 against the real broker of
// scripts/kafka.sh, and the kafka app's KafkaUser ACLs (deploy/argocd/apps/kafka) as Kafka's
// own authorizer enforces them.
describe('the Kafka bus with SASL/SCRAM and the GitOps ACLs', () => {
  let plain: string | undefined;
  const id = randomUUID().slice(0, 8);
  const buses: EventBus[] = [];
  const bus = async (user: User, prefix: string, password: string = KAFKA_SCRAM.users[user]) => {
    const b = await createKafkaBus({
      bootstrap: [KAFKA_SCRAM.bootstrap], clientId: `sasl-${user}`, topicPrefix: prefix, sasl: { mechanism: 'SCRAM-SHA-512', username: user, password },
      topics: [TOPICS.control, TOPICS.events].map((name) => ({ name, partitions: 1 })), onError: quiet,
    });
    buses.push(b);
    return b;
  };

  before(async () => {
    plain = await service('kafka');
  });
  after(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
  });

  it('authenticates with SCRAM-SHA-512 (bus, sluice check\'s probe, config from mounted files); a wrong password is refused', async (ctx) => {
    if (!plain) return ctx.skip('Kafka is not installed here');
    const b = await bus('sluice-test', `sasl-${id}.`);
    const got: unknown[] = [];
    await b.subscribe(TOPICS.events, { group: 'sasl-test', fromBeginning: true }, (m) => void got.push(m.value));
    await b.publish(TOPICS.events, 'k', { hello: 'scram' });
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, [{ hello: 'scram' }]);
    assert.match(await probeKafka({ bootstrap: [KAFKA_SCRAM.bootstrap], clientId: 'sasl-check', sasl: { mechanism: 'SCRAM-SHA-512', username: 'sluice-test', password: 'sluice-test-secret' }, topics: [`sasl-${id}.sluice.events`], timeoutMs: 5_000 }),
      /1 broker; topics sasl-.*\.sluice\.events exist/);
    await assert.rejects(bus('sluice-test', `sasl-${id}.`, 'wrong-password'), /kafka bus cannot create its topics on 127\.0\.0\.1:29094: SASL authentication failed \(check the user, password and mechanism\)/);
    // The chart mounts the user's Secret as files.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sasl-'));
    writeFileSync(`${dir}/username`, 'sluice-worker\n');
    writeFileSync(`${dir}/password`, 'worker-secret\n');
    const config = loadConfig({ env: { SLUICE_KAFKA_BROKERS: KAFKA_SCRAM.bootstrap, SLUICE_KAFKA_USERNAME_FILE: `${dir}/username`, SLUICE_KAFKA_PASSWORD_FILE: `${dir}/password` }, cwd: root });
    assert.deepEqual(config.bus.kind === 'kafka' && config.bus.sasl, { mechanism: 'SCRAM-SHA-512', username: 'sluice-worker', password: 'worker-secret' });
    assert.throws(() => loadConfig({ env: { SLUICE_KAFKA_BROKERS: KAFKA_SCRAM.bootstrap, SLUICE_KAFKA_USERNAME: 'x' }, cwd: root }), /bus\.sasl\.password/);
  });

  it('the kafka app\'s ACLs hold on a real broker: each component may do what it needs and nothing else', async (ctx) => {
    if (!plain) return ctx.skip('Kafka is not installed here');
    // As a deployment with topicPrefix would: every ACL's topic and group under the prefix.
    const prefix = `acl-${id}.`;
    const values = parse(readFileSync(`${root}deploy/argocd/apps/kafka/values.yaml`, 'utf8')) as { users: { name: User; acls: AppAcl[] }[] };
    const admin = new Admin({ clientId: 'acl-setup', bootstrapBrokers: [plain] });
    try {
      await admin.createTopics({ topics: ['sluice.control', 'sluice.events', 'sluice.data.klines', 'sluice.dlq.klines'].map((t) => prefix + t), partitions: 1, replicas: 1 });
      await admin.createAcls({
        creations: values.users.flatMap((u) => u.acls.flatMap((a) => {
          const [resourceType, name, pattern] = a.topic ? [ResourceTypes.TOPIC, a.topic, ResourcePatternTypes.LITERAL] : a.topicPrefix ? [ResourceTypes.TOPIC, a.topicPrefix, ResourcePatternTypes.PREFIXED]
            : a.group ? [ResourceTypes.GROUP, a.group, ResourcePatternTypes.LITERAL] : [ResourceTypes.GROUP, a.groupPrefix!, ResourcePatternTypes.PREFIXED];
          return a.operations.map((op) => ({
            resourceType, resourceName: prefix + name, resourcePatternType: pattern, principal: `User:${u.name}`, host: '*',
            operation: AclOperations[op.toUpperCase() as keyof typeof AclOperations], permissionType: AclPermissionTypes.ALLOW,
          }));
        })),
      });
      // ACLs reach the authorizer through the metadata log: a moment after the call returns.
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      await admin.close();
    }
    const denied = (e: unknown) => /not authorized \(TOPIC_AUTHORIZATION_FAILED\)/.test((e as Error).message);
    const controlPlane = await bus('sluice-control-plane', prefix);
    const worker = await bus('sluice-worker', prefix);
    const connector = await createKafkaBus({ bootstrap: [KAFKA_SCRAM.bootstrap], clientId: 'sasl-connector', topicPrefix: prefix, sasl: { mechanism: 'SCRAM-SHA-512', username: 'sluice-connector', password: KAFKA_SCRAM.users['sluice-connector'] }, onError: quiet });
    buses.push(connector);
    const table: [string, EventBus, string, boolean][] = [
      ['control plane writes commands', controlPlane, TOPICS.control, true],
      ['control plane writes events', controlPlane, TOPICS.events, false],
      ['control plane writes data', controlPlane, 'sluice.data.klines', false],
      ['worker writes events', worker, TOPICS.events, true],
      ['worker writes data', worker, 'sluice.data.klines', true],
      ['worker writes commands', worker, TOPICS.control, false],
      ['connector writes dead letters', connector, 'sluice.dlq.klines', true],
      ['connector writes data', connector, 'sluice.data.klines', false],
      ['connector writes commands', connector, TOPICS.control, false],
    ];
    const wrong: string[] = [];
    for (const [what, b, topic, allowed] of table) {
      const outcome = await b.publish(topic, 'k', { what }).then(() => true, (e: unknown) => (denied(e) ? false : e));
      if (outcome !== allowed) wrong.push(`${what}: expected ${allowed ? 'allowed' : 'denied'}, got ${outcome instanceof Error ? outcome.message : String(outcome)}`);
    }
    assert.deepEqual(wrong, []);
    // And reading: the coordinator's group on events, the workers' group on commands.
    const seen: string[] = [];
    await controlPlane.subscribe(TOPICS.events, { group: 'sluice-coordinator', fromBeginning: true }, (m) => void seen.push(`events:${(m.value as { what: string }).what}`));
    await worker.subscribe(TOPICS.control, { group: 'sluice-workers', fromBeginning: true }, (m) => void seen.push(`control:${(m.value as { what: string }).what}`));
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.sort(), ['control:control plane writes commands', 'events:worker writes events']);
    // A stream step on a worker reads a data topic from explicit offsets, in a reader group of its own.
    const sasl = (user: User) => ({ mechanism: 'SCRAM-SHA-512' as const, username: user, password: KAFKA_SCRAM.users[user] });
    for (const [user, allowed] of [['sluice-worker', true], ['sluice-connector', true], ['sluice-control-plane', false]] as const) {
      const topics = await createKafkaDataTopics({ bootstrap: [KAFKA_SCRAM.bootstrap], clientId: `sasl-${user}`, topicPrefix: prefix, sasl: sasl(user) });
      try {
        const read = await (async () => {
          const reader = await topics.reader('sluice.data.klines', { from: [], otherwise: 'earliest', buffer: 10 });
          try {
            for (let i = 0; i < 40; i++) {
              const got = await reader.next(10, 250);
              if (got.length > 0) return JSON.parse(Buffer.from(got[0]!.value).toString()).what as string;
            }
            return 'nothing';
          } finally {
            await reader.close();
          }
        })().catch((e: unknown) => `refused: ${(e as Error).message}`);
        if (allowed) assert.equal(read, 'worker writes data', `${user} reads the data topic`);
        else assert.match(read, /^refused: .*(not authorized|AUTHORIZATION)/i, `${user} may not read the data topic`);
      } finally {
        await topics.close();
      }
    }
  });
});
