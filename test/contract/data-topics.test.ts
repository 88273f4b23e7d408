import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { createKafkaDataTopics } from '../../src/adapters/kafka/kafka-data-topics.ts';
import { createMemoryDataTopics } from '../../src/adapters/memory-topics/memory-data-topics.ts';
import { service } from '../helpers/services.ts';
import { dataTopicsContract } from './data-topics.contract.ts';

// Each memory client is a log of its own; the contract opens one per test.
dataTopicsContract('memory', async () => createMemoryDataTopics());

let bootstrap: string | undefined;
let kafkaError: unknown;
try {
  bootstrap = await service('kafka');
} catch (err) {
  kafkaError = err;
}
if (kafkaError !== undefined) {
  test('DataTopics contract: Kafka', () => {
    throw kafkaError;
  });
} else if (bootstrap === undefined) {
  test('DataTopics contract: Kafka', (t) => t.skip('Kafka is not installed here (run scripts/kafka.sh install)'));
} else {
  const brokers = [bootstrap];
  const topicPrefix = `test.${randomUUID().slice(0, 8)}.`;
  after(async () => {
    const admin = new Admin({ clientId: 'contract-cleanup', bootstrapBrokers: brokers });
    try {
      const topics = (await admin.listTopics()).filter((name) => name.startsWith(topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.close();
    }
  });
  dataTopicsContract('Kafka', () => createKafkaDataTopics({ bootstrap: brokers, clientId: 'contract', topicPrefix }));
}
