import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { service } from './services.ts';

/**
 * The shared Kafka broker (scripts/kafka.sh) for a test file, under a topic and group prefix
 * of this run that is deleted after the file. When the broker cannot start, a failing test
 * named `label` says why (so the file's other results still show); when it is not installed
 * (off CI), a skipped one. Returns null in both cases.
 */
export async function kafkaForTests(label: string): Promise<{ brokers: string[]; topicPrefix: string } | null> {
  let bootstrap: string | undefined;
  try {
    bootstrap = await service('kafka');
  } catch (err) {
    test(label, () => {
      throw err;
    });
    return null;
  }
  if (bootstrap === undefined) {
    test(label, (t) => t.skip('Kafka is not installed here (run scripts/kafka.sh install)'));
    return null;
  }
  const brokers = [bootstrap];
  const topicPrefix = `test.${randomUUID().slice(0, 8)}.`;
  after(async () => {
    const admin = new Admin({ clientId: 'test-cleanup', bootstrapBrokers: brokers });
    try {
      const topics = (await admin.listTopics()).filter((name) => name.startsWith(topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      const groups = [...(await admin.listGroups()).keys()].filter((id) => id.startsWith(topicPrefix));
      if (groups.length > 0) await admin.deleteGroups({ groups });
    } finally {
      await admin.close();
    }
  });
  return { brokers, topicPrefix };
}
