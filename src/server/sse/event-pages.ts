import type { EventRecord, RunHistory } from '../../ports/metadata-store.ts';

/**
 * SSE text of consecutive events, cut near CHUNK_BYTES so one write never holds a whole
 * page; encoded once, as every stream at this place writes the same bytes.
 */
export interface EventChunk {
  readonly data: Buffer;
  readonly lastId: number;
}

export interface EventPage {
  readonly chunks: readonly EventChunk[];
  readonly count: number;
}

export interface EventPagesOptions {
  /** Events read per query. */
  readonly pageSize?: number;
  /** Bytes of full pages kept for other streams at the same place. */
  readonly cacheBytes?: number;
  /** Queries streams may have running at once; the rest of the API shares the store. */
  readonly concurrency?: number;
}

const CHUNK_BYTES = 64 * 1024;
/** Retention may delete events; a cached page outlives that only briefly. */
const CACHE_TTL_MS = 30_000;

const frame = (e: EventRecord) => `id: ${e.id}\nevent: ${e.type.replace(/[\r\n]/g, ' ')}\ndata: ${JSON.stringify(e)}\n\n`;

/**
 * Pages of the event table as SSE text, shared by every stream: clients that replay the
 * same history, or wait at the same tail, cost one query and one serialisation instead of
 * one each. Full pages cannot change, so they are cached (bounded by bytes); the tail is
 * only shared while its query runs. Queries are limited in number, so a crowd of streams
 * never queues the rest of the API behind it at the store.
 */
export class EventPages {
  readonly #metadata: Pick<RunHistory, 'events'>;
  readonly #pageSize: number;
  readonly #cacheBytes: number;
  readonly #concurrency: number;
  readonly #cache = new Map<string, { page: EventPage; bytes: number; at: number }>();
  #cached = 0;
  readonly #inflight = new Map<string, Promise<EventPage>>();
  #latest: Promise<number> | null = null;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(metadata: Pick<RunHistory, 'events'>, options: EventPagesOptions = {}) {
    this.#metadata = metadata;
    this.#pageSize = options.pageSize ?? 200;
    this.#cacheBytes = options.cacheBytes ?? 16 << 20;
    this.#concurrency = options.concurrency ?? 4;
  }

  get pageSize(): number {
    return this.#pageSize;
  }

  /** The events after `afterId` (of one run, or of all), at most one page. */
  page(runId: string | undefined, afterId: number): Promise<EventPage> {
    const key = `${runId ?? '*'}:${afterId}`;
    const hit = this.#cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return Promise.resolve(hit.page);
    if (hit) this.#evict(key);
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#load(key, runId, afterId).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  /**
   * The id of the newest event, where a live stream starts. Streams opening together share
   * one query, and it waits its turn at the store like a page.
   */
  latestId(): Promise<number> {
    this.#latest ??= this.#gated(() => this.#metadata.events({ newestFirst: true, limit: 1 }))
      .then(([e]) => e?.id ?? 0)
      .finally(() => (this.#latest = null));
    return this.#latest;
  }

  async #load(key: string, runId: string | undefined, afterId: number): Promise<EventPage> {
    const events = await this.#gated(() => this.#metadata.events({ runId, afterId, limit: this.#pageSize }));
    const chunks: EventChunk[] = [];
    let text = '';
    for (const [i, e] of events.entries()) {
      text += frame(e);
      if (text.length >= CHUNK_BYTES || i === events.length - 1) {
        chunks.push({ data: Buffer.from(text), lastId: e.id });
        text = '';
      }
    }
    const bytes = chunks.reduce((n, c) => n + c.data.length, 0);
    const page = { chunks, count: events.length };
    if (events.length === this.#pageSize && bytes <= this.#cacheBytes / 4) this.#store(key, page, bytes);
    return page;
  }

  #store(key: string, page: EventPage, bytes: number): void {
    this.#cache.set(key, { page, bytes, at: Date.now() });
    this.#cached += bytes;
    for (const oldest of this.#cache.keys()) {
      if (this.#cached <= this.#cacheBytes) break;
      this.#evict(oldest);
    }
  }

  #evict(key: string): void {
    const e = this.#cache.get(key);
    if (!e) return;
    this.#cache.delete(key);
    this.#cached -= e.bytes;
  }

  async #gated<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#running >= this.#concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
