/** Topic names of the bus protocol (DESIGN.md §4). */
export const TOPICS = {
  control: 'sluice.control',
  events: 'sluice.events',
} as const;

export interface BusMessage {
  readonly topic: string;
  /** Messages with the same key stay in order (the run id for protocol topics). */
  readonly key: string;
  readonly value: unknown;
  /** Position within the topic/partition, as a decimal string. */
  readonly offset: string;
}

export interface SubscribeOptions {
  /** Consumers in one group share the messages; different groups each get all of them. */
  readonly group: string;
  /** Start from the oldest retained message instead of new ones only. */
  readonly fromBeginning?: boolean;
}

export interface Subscription {
  close(): Promise<void>;
}

/**
 * Carries commands and events between the control plane and workers. Handlers run one
 * message at a time per subscription, in order per key; a message counts as consumed once
 * its handler resolves.
 */
export interface EventBus {
  readonly kind: string;
  publish(topic: string, key: string, value: unknown): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions, handler: (m: BusMessage) => Promise<void> | void): Promise<Subscription>;
  close(): Promise<void>;
}
