import type { GaugeStore, GaugeValue } from '../../ports/metadata-store.ts';
import type { SqlClient } from './sql-client.ts';
import { json } from './sql-query-parts.ts';
import { toGauge, type GaugeRow } from './rows.ts';

/** Latest gauge values and counter totals on any PostgreSQL dialect speaker. */
export class SqlGaugeStore implements GaugeStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async put(values: readonly GaugeValue[]): Promise<void> {
    if (values.length === 0) return;
    await this.#db.transaction(async (tx) => {
      for (const g of values) {
        await tx.query(
          `INSERT INTO gauges (name, labels, help, value, updated_at, kind)
           VALUES ($1, $2::text::jsonb, $3, $4, $5::timestamptz, $6)
           ON CONFLICT (name, labels) DO UPDATE SET
             help = EXCLUDED.help, value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, kind = EXCLUDED.kind`,
          [g.name, json(g.labels ?? {}, 'labels'), g.help, g.value, g.updatedAt, g.kind ?? 'gauge'],
        );
      }
    });
  }

  async list(): Promise<GaugeValue[]> {
    const { rows } = await this.#db.query<GaugeRow>('SELECT * FROM gauges ORDER BY name, labels');
    return rows.map(toGauge);
  }
}
