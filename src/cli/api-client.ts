import { SluiceError, UnavailableError, errorCodeOf } from '../core/errors.ts';
import type { RunDetail } from '../ports/metadata-store.ts';
import type { ServerFile } from './server-file.ts';

/**
 * What the CLI needs from a running server's API. Errors come back as the server's
 * problem documents, turned into SluiceErrors with the same code and message.
 */
export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;

  constructor(server: Pick<ServerFile, 'url'>, token?: string) {
    this.url = server.url;
    this.#token = token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.#send(method, path, body);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** A plain-text resource, such as `/metrics`. */
  text(path: string): Promise<string> {
    return this.#send('GET', path);
  }

  async #send(method: string, path: string, body?: unknown): Promise<string> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new UnavailableError(`cannot reach the server at ${this.url}: ${why}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) {
      let problem: { code?: string; detail?: string } | null;
      try {
        problem = JSON.parse(text) as { code?: string; detail?: string } | null;
      } catch {
        problem = null;
      }
      throw new SluiceError(problem ? errorCodeOf(problem.code) : 'unavailable', problem?.detail ?? `HTTP ${res.status} from ${path}`);
    }
    return text;
  }

  /** Follows a run's event stream until it ends, handing each event to `onEvent`. */
  async follow(runId: string, onEvent: (type: string, data: Record<string, unknown>) => void): Promise<void> {
    const headers: Record<string, string> = this.#token ? { authorization: `Bearer ${this.#token}` } : {};
    let last = '';
    // Reconnects with Last-Event-ID if the stream drops (or overflows) before the run ends.
    for (let tries = 0; tries < 30; tries++) {
      const res = await fetch(`${this.url}/api/v1/runs/${runId}/events`, { headers: last ? { ...headers, 'last-event-id': last } : headers });
      if (res.status === 429 || res.status === 503) {
        // The stream caps: wait as told (within reason) and try again.
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, Math.min(10, Number(res.headers.get('retry-after')) || 1) * 1000));
        continue;
      }
      if (!res.ok || !res.body) throw new UnavailableError(`cannot follow run ${runId}: HTTP ${res.status}`, { retryable: false });
      let buf = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let type = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) last = line.slice(4);
            else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (type === 'end') return;
          // Too slow to keep up: the server closes the stream and we resume from its id.
          if (type === 'overflow') continue;
          if (data) onEvent(type, JSON.parse(data));
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  run(id: string): Promise<RunDetail> {
    return this.call('GET', `/api/v1/runs/${id}`);
  }
}
