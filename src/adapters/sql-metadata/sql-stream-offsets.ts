import type { StreamOffset, StreamOffsetStore } from '../../ports/metadata-store.ts';
import type { SqlClient } from './sql-client.ts';
import { toStreamOffset, type StreamOffsetRow } from './rows.ts';

/** Streams' committed positions on any PostgreSQL dialect speaker. */
export class SqlStreamOffsets implements StreamOffsetStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async list(stream?: string): Promise<StreamOffset[]> {
    const { rows } = stream === undefined
      ? await this.#db.query<StreamOffsetRow>('SELECT * FROM stream_offsets ORDER BY stream, topic, partition')
      : await this.#db.query<StreamOffsetRow>('SELECT * FROM stream_offsets WHERE stream = $1 ORDER BY topic, partition', [stream]);
    return rows.map(toStreamOffset);
  }
}
