import { Admin } from '@platformatic/kafka';
import { saslOption, type KafkaSasl } from './kafka-sasl.ts';

/**
 * Asks the brokers for the cluster's metadata and lists which of `topics` exist; creates
 * nothing. Throws when no bootstrap broker answers within `timeoutMs`.
 */
export async function probeKafka(o: { bootstrap: readonly string[]; clientId: string; sasl?: KafkaSasl; topics: readonly string[]; timeoutMs: number }): Promise<string> {
  const admin = new Admin({
    clientId: o.clientId, bootstrapBrokers: [...o.bootstrap], connectTimeout: o.timeoutMs, requestTimeout: o.timeoutMs, timeout: o.timeoutMs, retries: 0, ...saslOption(o.sasl),
  });
  try {
    const meta = await admin.metadata({ topics: [], forceUpdate: true });
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const missing = o.topics.filter((t) => !existing.has(t));
    const brokers = `${meta.brokers.size} broker${meta.brokers.size === 1 ? '' : 's'}`;
    return missing.length === 0
      ? `${brokers}; topics ${o.topics.join(', ')} exist`
      : `${brokers}; topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} not created yet (the control plane creates them)`;
  } finally {
    await admin.close().catch(() => undefined);
  }
}
