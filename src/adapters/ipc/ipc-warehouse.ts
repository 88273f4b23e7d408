import { ValidationError } from '../../core/errors.ts';
import type { QueryOptions, QueryParams, Warehouse } from '../../ports/warehouse.ts';
import type { IpcClient } from './ipc-client.ts';
import { disconnected, toWireError } from './protocol.ts';

export interface IpcWarehouseOptions {
  /** Chunks of a streamed insert on their way to or waiting in the parent; default 4. */
  readonly window?: number;
  /** Small chunks are joined until about this many characters before they are sent; default 256 KiB. */
  readonly chunkChars?: number;
}

/**
 * A Warehouse for a forked worker whose control plane owns the real one (chDB allows one
 * process per data path). Statements go to the parent as requests; a bulk insert streams
 * its chunks with flow control, at most `window` chunks ahead of the parent's insert, so
 * memory stays flat on both sides. Errors come back as SluiceErrors with their code and
 * retryable flag, so retries are classified as if the warehouse were local.
 *
 * @example
 * const warehouse = new IpcWarehouse(new IpcClient(process));
 * const [r] = await warehouse.query<{ n: number }>('SELECT 1 AS n');
 */
export class IpcWarehouse implements Warehouse {
  readonly kind = 'ipc';
  readonly #client: IpcClient;
  readonly #window: number;
  readonly #chunkChars: number;

  constructor(client: IpcClient, options: IpcWarehouseOptions = {}) {
    this.#client = client;
    this.#window = options.window ?? 4;
    this.#chunkChars = options.chunkChars ?? 256 * 1024;
    if (!Number.isInteger(this.#window) || this.#window < 1) throw new ValidationError(`ipc warehouse window must be a positive integer, got ${this.#window}`);
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    await this.#client.request({ op: 'wh.command', sql, params });
  }

  // The signal stays on this side: the parent's query runs to its own limits.
  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams, _options?: QueryOptions): Promise<T[]> {
    return (await this.#client.request({ op: 'wh.query', sql, params })) as T[];
  }

  async explain(statement: string, params?: QueryParams, _options?: QueryOptions): Promise<string[]> {
    return (await this.#client.request({ op: 'wh.explain', sql: statement, params })) as string[];
  }

  async insertRows(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.request({ op: 'wh.insertRows', table, rows: [...rows] });
  }

  async insertTsv(table: string, columns: readonly string[], body: AsyncIterable<string>): Promise<number> {
    const client = this.#client;
    const stream = client.nextId();
    let credits = this.#window;
    let wake: (() => void) | null = null;
    let settled = false;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    client.onCredit(stream, (n) => {
      credits += n;
      poke();
    });
    const result = client.request({ op: 'wh.insertTsv', table, columns: [...columns], window: this.#window }, stream);
    // The parent may answer early (its insert failed): stop streaming then.
    void result.then(
      () => ((settled = true), poke()),
      () => ((settled = true), poke()),
    );

    const send = async (data: string): Promise<void> => {
      while (credits === 0 && !settled) {
        if (!client.connected) throw disconnected();
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (settled) return;
      credits -= 1;
      await client.post({ t: 'chunk', stream, data });
    };

    try {
      let pending = '';
      for await (const chunk of body) {
        if (settled) break;
        pending += chunk;
        if (pending.length >= this.#chunkChars) {
          await send(pending);
          pending = '';
        }
      }
      if (pending.length > 0) await send(pending);
      if (!settled) await client.post({ t: 'end', stream });
    } catch (err) {
      // The source failed (or the channel did): the parent's insert must fail too, not commit a prefix.
      if (!settled) await client.post({ t: 'abort', stream, error: toWireError(err) }).catch(() => undefined);
      await result.catch(() => undefined);
      throw err;
    } finally {
      client.offCredit(stream);
    }
    return Number(await result);
  }

  async insertBatch(table: string, columns: readonly string[], body: string, options: { dedupToken?: string } = {}): Promise<void> {
    await this.#client.request({ op: 'wh.insertBatch', table, columns: [...columns], body, dedupToken: options.dedupToken });
  }

  /** Nothing to close here: the parent owns the warehouse. */
  async close(): Promise<void> {}
}
