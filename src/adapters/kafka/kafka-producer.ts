import { compatibilityPartitioner, ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { saslOption, type KafkaSasl } from './kafka-sasl.ts';

/**
 * The producer every Kafka adapter here uses: string keys hashed as the Java client hashes
 * them (a key lands on the same partition whichever client wrote it), idempotent (a key's
 * messages stay in order and unduplicated across retries, which implies acks=all), topics
 * never auto-created.
 */
export function kafkaProducer(clientId: string, bootstrap: readonly string[], sasl: KafkaSasl | undefined): Producer<string, Buffer, Buffer, Buffer> {
  return new Producer<string, Buffer, Buffer, Buffer>({
    clientId,
    bootstrapBrokers: [...bootstrap],
    serializers: { key: stringSerializer },
    partitioner: compatibilityPartitioner,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    retries: 5,
    retryDelay: 250,
    ...saslOption(sasl),
  });
}
