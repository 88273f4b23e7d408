import { createKafkaDataTopics } from '../../src/adapters/kafka/kafka-data-topics.ts';
import { createMemoryDataTopics } from '../../src/adapters/memory-topics/memory-data-topics.ts';
import { kafkaForTests } from '../helpers/kafka-for-tests.ts';
import { dataTopicsContract } from './data-topics.contract.ts';

// Each memory client is a log of its own; the contract opens one per test.
dataTopicsContract('memory', async () => createMemoryDataTopics());

const kafka = await kafkaForTests('DataTopics contract: Kafka');
if (kafka) dataTopicsContract('Kafka', () => createKafkaDataTopics({ bootstrap: kafka.brokers, clientId: 'contract', topicPrefix: kafka.topicPrefix }));
