import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SluiceError } from '../../src/core/errors.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';

async function* tsv(rows: number, chunkRows: number, failAt: number | null = null): AsyncGenerator<string> {
  let chunk = '';
  for (let i = 0; i < rows; i += 1) {
    if (i === failAt) throw new Error(`source broke at row ${i}`);
    chunk += `${i}\tname\\t${i}\n`;
    if ((i + 1) % chunkRows === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * What every Warehouse adapter must do, whatever carries the SQL (chDB in this process, a
 * ClickHouse server over HTTP, the IPC bridge of a forked worker). `open` returns a
 * warehouse and is called once; each suite works in a database of its own and drops it.
 */
export function warehouseContract(name: string, open: () => Promise<Warehouse | undefined>): void {
  describe(`Warehouse contract: ${name}`, () => {
    let wh: Warehouse | undefined;
    const db = `contract_${randomBytes(4).toString('hex')}`;

    before(async () => {
      wh = await open();
      if (wh) await wh.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
    });
    after(async () => {
      await wh?.command(`DROP DATABASE IF EXISTS ${db}`);
      await wh?.close();
    });
    const w = (t: { skip(m: string): void }): Warehouse | null => {
      if (!wh) t.skip(`${name} is not available here`);
      return wh ?? null;
    };

    it('runs DDL, then answers a SELECT with row objects and 64-bit counts as numbers', async (t) => {
      const x = w(t);
      if (!x) return;
      await x.command(`CREATE TABLE ${db}.people (id UInt64, name String, born Nullable(Date), score Float64) ENGINE = MergeTree ORDER BY id`);
      const rows = await x.query<{ n: unknown; one: unknown }>(`SELECT count() AS n, toUInt64(1) AS one FROM ${db}.people`);
      assert.deepEqual(rows, [{ n: 0, one: 1 }]);
    });

    it('binds parameters instead of splicing them into the SQL', async (t) => {
      const x = w(t);
      if (!x) return;
      const evil = "O'Brien'); DROP DATABASE " + db + '; --';
      const [r] = await x.query<{ s: string; d: string }>('SELECT {s:String} AS s, toString({d:Date}) AS d', { s: evil, d: '2010-12-01' });
      assert.equal(r.s, evil);
      assert.equal(r.d, '2010-12-01');
      const [exists] = await x.query<{ n: number }>('SELECT count() AS n FROM system.databases WHERE name = {db:String}', { db });
      assert.equal(Number(exists.n), 1);
    });

    it('inserts row objects (nulls, dates, floats) and reads them back; an empty insert is a no-op', async (t) => {
      const x = w(t);
      if (!x) return;
      await x.insertRows(`${db}.people`, [
        { id: 1, name: 'Ada', born: '2010-12-01', score: 9.5 },
        { id: 2, name: 'Ünïcode, "quoted"\ttab', born: null, score: -0.25 },
      ]);
      await x.insertRows(`${db}.people`, []);
      const rows = await x.query(`SELECT id, name, toString(born) AS born, score FROM ${db}.people ORDER BY id`);
      assert.deepEqual(rows, [
        { id: 1, name: 'Ada', born: '2010-12-01', score: 9.5 },
        { id: 2, name: 'Ünïcode, "quoted"\ttab', born: null, score: -0.25 },
      ]);
    });

    it('streams a TabSeparated body in chunks and returns the rows written', async (t) => {
      const x = w(t);
      if (!x) return;
      await x.command(`CREATE TABLE ${db}.bulk (id UInt32, name String) ENGINE = MergeTree ORDER BY id`);
      const written = await x.insertTsv(`${db}.bulk`, ['id', 'name'], tsv(50_000, 250));
      assert.equal(written, 50_000);
      const [r] = await x.query<{ n: number; s: number; tab: string }>(
        `SELECT count() AS n, sum(id) AS s, anyIf(name, id = 7) AS tab FROM ${db}.bulk`,
      );
      assert.deepEqual({ n: Number(r.n), s: Number(r.s), tab: r.tab }, { n: 50_000, s: (49_999 * 50_000) / 2, tab: 'name\t7' });
    });

    it('writes a batch once per deduplication token, however often it is sent', async (t) => {
      const x = w(t);
      if (!x) return;
      await x.command(`CREATE TABLE ${db}.batches (id UInt32, name String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`);
      const body = Array.from({ length: 1_000 }, (_, i) => `${i}\tn${i}\\t`).join('\n') + '\n';
      await x.insertBatch(`${db}.batches`, ['id', 'name'], body, { dedupToken: 'topic/0/0-999' });
      await x.insertBatch(`${db}.batches`, ['id', 'name'], body, { dedupToken: 'topic/0/0-999' });
      const count = async () => Number((await x.query<{ n: number }>(`SELECT count() AS n FROM ${db}.batches`))[0]!.n);
      assert.equal(await count(), 1_000, 'the repeat with the same token was dropped');
      await x.insertBatch(`${db}.batches`, ['id', 'name'], body, { dedupToken: 'topic/0/1000-1999' });
      assert.equal(await count(), 2_000, 'another token is another batch');
      const [r] = await x.query<{ name: string }>(`SELECT name FROM ${db}.batches WHERE id = 7 LIMIT 1`);
      assert.equal(r!.name, 'n7\t', 'TabSeparated escapes decoded');
      await assert.rejects(x.insertBatch(`${db}.batches`, ['id', 'name'], 'x\ty\n'), (err: unknown) => err instanceof SluiceError);
    });

    it('a bulk insert whose source fails rejects with the source\'s error', async (t) => {
      const x = w(t);
      if (!x) return;
      await x.command(`CREATE TABLE ${db}.broken (id UInt32, name String) ENGINE = MergeTree ORDER BY id`);
      await assert.rejects(x.insertTsv(`${db}.broken`, ['id', 'name'], tsv(10_000, 100, 5_000)), /source broke at row 5000/);
    });

    it('SQL the engine refuses is a non-retryable SluiceError that names the statement', async (t) => {
      const x = w(t);
      if (!x) return;
      await assert.rejects(x.query(`SELECT nope FROM ${db}.people`), (err: unknown) => {
        assert.ok(err instanceof SluiceError, String(err));
        assert.equal(err.code, 'warehouse');
        assert.equal(err.retryable, false);
        assert.match(err.message, /UNKNOWN_IDENTIFIER/);
        assert.match(err.message, /SELECT nope FROM/);
        return true;
      });
      await assert.rejects(x.command('CREATE TABLE ('), (err: unknown) => err instanceof SluiceError && /SYNTAX_ERROR/.test(err.message));
    });

    it('explains a statement as the engine\'s lines, without running it', async (t) => {
      const x = w(t);
      if (!x) return;
      const lines = await x.explain(`EXPLAIN AST INSERT INTO ${db}.people (id) SELECT 42`);
      assert.equal(lines[0].trim().split(' ')[0], 'InsertQuery');
      const [r] = await x.query<{ n: number }>(`SELECT count() AS n FROM ${db}.people WHERE id = 42`);
      assert.equal(Number(r.n), 0, 'the explained INSERT did not run');
      const tree = await x.explain(`EXPLAIN QUERY TREE SELECT name FROM ${db}.people`);
      assert.ok(tree.some((l) => l.includes(`table_name: ${db}.people`)), tree.join('\n'));
    });
  });
}
