import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NotSupportedError } from '../../src/core/errors.ts';
import type { AttemptEvent } from '../../src/core/events.ts';
import { TOPICS, type EventBus } from '../../src/ports/event-bus.ts';
import type { LaunchRequest, Launcher } from '../../src/ports/launcher.ts';

export interface LauncherUnderTest {
  readonly launcher: Launcher;
  /** The bus the launched attempts report on. */
  readonly bus: EventBus;
  close(): Promise<void>;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * What every Launcher must do: attempts it launches run the dummy pipeline's step and
 * report on the events topic (never as return values), `terminate` stops one through its
 * AbortSignal, and `kill` either ends one by force (and it reports nothing more) or, when
 * the launcher cannot, refuses saying what to run instead.
 */
export function launcherContract(name: string, open: () => Promise<LauncherUnderTest>): void {
  describe(`Launcher contract: ${name}`, () => {
    let ut: LauncherUnderTest;
    const events: AttemptEvent[] = [];
    const of = (id: string) => events.filter((e) => e.attemptId === id);
    const ended = (id: string) => of(id).find((e) => e.type === 'attempt.succeeded' || e.type === 'attempt.failed');

    before(async () => {
      ut = await open();
      await ut.bus.subscribe(TOPICS.events, { group: `launcher-contract-${randomUUID()}`, fromBeginning: true }, (m) => {
        const v = m.value as AttemptEvent;
        if (typeof v.attemptId === 'string') events.push(v);
      });
    });
    after(() => ut?.close());

    async function launch(params: Record<string, unknown>): Promise<LaunchRequest> {
      const req: LaunchRequest = { runId: randomUUID(), attemptId: randomUUID(), attempt: 1, pipeline: 'dummy', step: 'load', params, partition: null, timeoutMs: null };
      await ut.launcher.launch(req);
      return req;
    }

    it('runs a launched attempt, which reports started then succeeded on the events topic', async () => {
      const req = await launch({ records: 20, rate: 2_000 });
      await waitFor('the attempt to end', () => ended(req.attemptId) !== undefined);
      const types = of(req.attemptId).map((e) => e.type);
      assert.equal(types[0], 'attempt.started');
      assert.equal(ended(req.attemptId)?.type, 'attempt.succeeded', JSON.stringify(ended(req.attemptId)));
    });

    it('terminate stops a running attempt through its AbortSignal: it reports failed as cancelled', async () => {
      const req = await launch({ records: 100_000, rate: 50 });
      await waitFor('the attempt to start', () => of(req.attemptId).some((e) => e.type === 'attempt.started'));
      await ut.launcher.terminate(req.attemptId, 'contract: stop');
      await waitFor('the attempt to end', () => ended(req.attemptId) !== undefined);
      const end = ended(req.attemptId) as Extract<AttemptEvent, { type: 'attempt.failed' }>;
      assert.equal(end.type, 'attempt.failed');
      assert.equal(end.error.code, 'cancelled', JSON.stringify(end.error));
    });

    it('kill ends a running attempt by force, or refuses naming what to run instead', async () => {
      const req = await launch({ records: 100_000, rate: 50 });
      await waitFor('the attempt to start', () => of(req.attemptId).some((e) => e.type === 'attempt.started'));
      if (!ut.launcher.canKill) {
        await assert.rejects(ut.launcher.kill(req.attemptId), (err: unknown) => err instanceof NotSupportedError && /sluice dev|worker/.test(err.message));
        await ut.launcher.terminate(req.attemptId, 'contract: clean up');
        await waitFor('the attempt to end', () => ended(req.attemptId) !== undefined);
        return;
      }
      await ut.launcher.kill(req.attemptId);
      const seen = of(req.attemptId).length;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(ended(req.attemptId), undefined, 'a killed attempt reports no end');
      assert.equal(of(req.attemptId).length, seen, 'nor anything else');
    });

    it('terminate of an attempt it does not know is not an error', async () => {
      await ut.launcher.terminate(randomUUID(), 'contract: nothing to stop');
      if (ut.launcher.canKill) await ut.launcher.kill(randomUUID());
    });
  });
}
