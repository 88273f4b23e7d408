import { ValidationError } from '../../core/errors.ts';
import type { Warehouse } from '../../ports/warehouse.ts';
import { codecFor, FieldError, type Codec } from './column-codec.ts';

/** A column the records must supply: `DESCRIBE TABLE` rows without a DEFAULT, MATERIALIZED, ALIAS or EPHEMERAL expression. */
interface Column {
  readonly name: string;
  readonly codec: Codec;
  readonly nullable: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks records against a warehouse table and writes the good ones as TabSeparated lines.
 * Learns the table's columns once (`DESCRIBE TABLE`); a record that is not UTF-8 JSON, not
 * an object, misses a column or has a value its column cannot hold is refused with the
 * reason, so it goes to the dead letters and the rest of the batch is written.
 */
export class RecordEncoder {
  readonly columns: readonly string[];
  readonly #columns: readonly Column[];

  private constructor(columns: readonly Column[]) {
    this.#columns = columns;
    this.columns = columns.map((c) => c.name);
  }

  static async forTable(warehouse: Warehouse, table: string): Promise<RecordEncoder> {
    if (!/^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$/.test(table)) throw new ValidationError(`connector table must be database.table, got ${table}`, 'table');
    const described = await warehouse.query<{ name: string; type: string; default_type: string }>(`DESCRIBE TABLE ${table}`);
    const columns = described
      .filter((c) => c.default_type === '')
      .map((c) => ({ name: c.name, codec: codecFor(c.type, c.name), nullable: /^(LowCardinality\()?Nullable\(/.test(c.type) }));
    if (columns.length === 0) throw new ValidationError(`connector table ${table} has no column a record can fill`, 'table');
    return new RecordEncoder(columns);
  }

  /**
   * The record's TabSeparated line (with its newline), null when `where` says the record is
   * not this route's, or throws a FieldError saying why not.
   */
  encode(value: Uint8Array, map?: (record: Record<string, unknown>) => Record<string, unknown>, where?: (record: Record<string, unknown>) => boolean): string | null {
    let text: string;
    try {
      text = utf8.decode(value);
    } catch {
      throw new FieldError('the record is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new FieldError(`the record is not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FieldError('the record is not a JSON object');
    if (where && !where(parsed as Record<string, unknown>)) return null;
    const record = map ? map(parsed as Record<string, unknown>) : (parsed as Record<string, unknown>);
    // join() gives one flat string; `+=` would keep each line as a rope of its 2n pieces, and
    // a batch of ropes holds several times its text in memory (the newline adds one link only).
    const fields: string[] = new Array(this.#columns.length);
    for (let i = 0; i < this.#columns.length; i++) {
      const c = this.#columns[i] as Column;
      const v = record[c.name];
      if (v === undefined && !c.nullable) throw new FieldError(`${c.name}: missing`);
      fields[i] = c.codec(v === undefined ? null : v, c.name, false);
    }
    return `${fields.join('\t')}\n`;
  }
}
