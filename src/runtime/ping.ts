import { randomUUID } from 'node:crypto';
import type { ControlCommand, Pong } from '../core/commands.ts';
import { TOPICS, type EventBus } from '../ports/event-bus.ts';
import type { Coordinator } from './coordinator.ts';

export interface PongResult {
  readonly workerId: string;
  readonly rttMs: number;
  readonly running: string[];
}

/**
 * Sends `ping` on the control topic and collects the `pong`s that come back on the events
 * topic within `waitMs` (or the first one, when a single worker is asked).
 */
export async function pingWorkers(bus: EventBus, coordinator: Coordinator, options: { workerId: string | null; waitMs: number }): Promise<PongResult[]> {
  const nonce = randomUUID();
  const sent = performance.now();
  const out: PongResult[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const off = coordinator.onPong((p: Pong) => {
    if (p.nonce !== nonce) return;
    out.push({ workerId: p.workerId, rttMs: Math.round((performance.now() - sent) * 100) / 100, running: p.running });
    if (options.workerId !== null) finish();
  });
  const timer = setTimeout(finish, options.waitMs);
  try {
    const cmd: ControlCommand = { v: 1, type: 'ping', nonce, workerId: options.workerId, sentAt: new Date().toISOString() };
    await bus.publish(TOPICS.control, nonce, cmd);
    await done;
  } finally {
    clearTimeout(timer);
    off();
  }
  return out.sort((a, b) => a.workerId.localeCompare(b.workerId));
}
