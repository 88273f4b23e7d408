import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { authHeaders } from './client';

/** One stored event, as the stream sends it (the metadata store's event record). */
export interface RunEvent {
  readonly id: number;
  readonly runId: string;
  readonly type: string;
  readonly step: string | null;
  readonly attemptId: string | null;
  readonly ts: string;
  readonly payload: Record<string, unknown>;
}

/** Events arriving together are handed over once per frame, so thousands a second do not re-render thousands of times. */
const FLUSH_MS = 100;

/**
 * Follows an SSE stream with fetch (EventSource cannot send the Authorization header),
 * resuming with Last-Event-ID after a drop, an overflow or the server's end of a long
 * stream, until `signal` aborts or a run's stream says `end` (the run has ended).
 */
export async function followEvents(path: string, onBatch: (events: RunEvent[]) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | null = null;
  let ended = false;
  let pending: RunEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    onBatch(batch);
  };
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const headers = new Headers({ accept: 'text/event-stream', ...authHeaders() });
      const resumeAt = lastId as string | null;
      if (resumeAt !== null) headers.set('last-event-id', resumeAt);
      const res = await fetch(path, { headers, signal });
      if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
      attempt = 0;
      const parser = createParser({
        onEvent: (m: EventSourceMessage) => {
          if (m.id) lastId = m.id;
          if (m.event === 'end') ended = true;
          if (m.event === 'end' || m.event === 'overflow') return;
          try {
            pending.push(JSON.parse(m.data) as RunEvent);
          } catch {
            return;
          }
          timer ??= setTimeout(flush, FLUSH_MS);
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      flush();
      if (ended) return;
    } catch (err) {
      if (signal.aborted) return;
      console.warn('event stream interrupted; resuming', err);
    }
    // Bounded backoff between reconnects: 0.5 s, 1 s, 2 s … 10 s.
    await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
  }
  if (timer) clearTimeout(timer);
}
