import type { SASLOptions } from '@platformatic/kafka';

/** SASL credentials for the brokers (a Strimzi `KafkaUser`, a managed cluster's API key). */
export interface KafkaSasl {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
}

/** The client library's connection option for it (none without credentials). */
export function saslOption(sasl: KafkaSasl | undefined): { sasl?: SASLOptions } {
  return sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } } : {};
}
