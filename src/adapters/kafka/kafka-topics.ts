import { setTimeout as sleep } from 'node:timers/promises';
import { findErrorBy } from '@platformatic/kafka';
import type { Admin } from '@platformatic/kafka';
import { isAccessError, kafkaReason } from './kafka-reason.ts';

/** A topic the bus creates at connect when it is missing. */
export interface KafkaTopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** `retention.ms` of the topic; the broker default when absent. */
  readonly retentionMs?: number;
}

/** How long a new topic may take to get a leader before publish or subscribe gives up. */
const LEADER_WAIT_MS = 15_000;

/**
 * Creates topics the bus uses, once per bus: the configured ones with their partitions and
 * retention, any other with one partition. The broker's auto-create is never relied on
 * (production clusters turn it off). A topic that already exists is left as it is, and is
 * looked up before any create: where an operator manages topics (Strimzi's KafkaTopic), a
 * client has no Create ACL and a create is refused even for a topic that exists.
 */
export function topicCreator(admin: Admin): { ensure(fullName: string, spec?: KafkaTopicSpec): Promise<void> } {
  const known = new Map<string, Promise<void>>();

  async function create(fullName: string, spec: KafkaTopicSpec | undefined): Promise<void> {
    const exists = await hasLeaders(admin, fullName).catch((err: unknown) => {
      if (isAccessError(err)) throw new Error(`kafka topic ${fullName}: ${kafkaReason(err)}`, { cause: err });
      return false;
    });
    if (exists) return;
    try {
      await admin.createTopics({
        topics: [fullName],
        partitions: spec?.partitions ?? 1,
        // -1: the broker's default.replication.factor, so a cluster's policy applies.
        replicas: -1,
        configs: spec?.retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(spec.retentionMs) }],
      });
    } catch (err) {
      if (!findErrorBy(err as Error, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw err;
    }
    await waitForLeaders(admin, fullName);
  }

  return {
    ensure(fullName, spec) {
      let pending = known.get(fullName);
      if (!pending) {
        pending = create(fullName, spec);
        known.set(fullName, pending);
        // A failure is not remembered: the next call tries again.
        pending.catch(() => known.delete(fullName));
      }
      return pending;
    },
  };
}

async function hasLeaders(admin: Admin, fullName: string): Promise<boolean> {
  const metadata = await admin.metadata({ topics: [fullName], forceUpdate: true });
  const topic = metadata.topics.get(fullName);
  return Boolean(topic && topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0));
}

/** A created topic is usable once the broker's metadata lists a leader for every partition. */
async function waitForLeaders(admin: Admin, fullName: string): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  let last: unknown;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    try {
      if (await hasLeaders(admin, fullName)) return;
    } catch (err) {
      if (isAccessError(err)) throw new Error(`kafka topic ${fullName}: ${kafkaReason(err)}`, { cause: err });
      last = err;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`kafka topic ${fullName} has no leader after ${LEADER_WAIT_MS} ms${reason}`, { cause: last });
    }
    await sleep(delay);
  }
}
