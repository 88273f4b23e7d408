import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { route, type AnyRoute } from '../route.ts';
import type { ServerContext } from '../server-context.ts';

/** Rows one page may ask for, and how deep paging may go (OFFSET reads what it skips). */
export const MAX_ASSET_ROWS = 1000;
const MAX_OFFSET = 100_000;

// A warehouse table as `database.table`: the only names that are quoted into SQL here.
const TABLE = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

const column = z.object({ name: z.string(), type: z.string() });

/** A ClickHouse string literal: backslash and quote escaped, so the text is data only. */
const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``;

/**
 * Reads a page of an asset's table for `view` tokens, without handing them SQL: the table
 * is a declared asset, the order column one of its columns, the filter a quoted literal,
 * and the statement still goes through the guarded query runner with its limits.
 */
export function assetRowsRoute(ctx: ServerContext, known: (name: string) => void): AnyRoute {
  return route({
    method: 'GET', path: '/api/v1/assets/:name/rows', operationId: 'listAssetRows',
    summary: `A page of the rows of an asset's warehouse table (a \`database.table\` asset), with its columns and types and the count of matching rows; `
      + `\`q\` keeps rows where some column contains the text (case-insensitive), \`order\` sorts by a column. At most ${MAX_ASSET_ROWS} rows a page.`,
    tag: 'assets', access: 'view',
    params: z.object({ name: z.string().min(1).max(300) }),
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_ASSET_ROWS).default(100),
      offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
      order: z.string().max(200).optional().describe('A column of the table'),
      desc: z.enum(['true', 'false']).default('false'),
      // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
      q: z.string().max(200).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters').optional(),
    }).strict(),
    response: z.object({
      columns: z.array(column),
      rows: z.array(z.record(z.string(), z.unknown())),
      total: z.number().int().nonnegative().describe('Rows that match the filter'),
      truncated: z.boolean().describe('The page was cut at the byte limit'),
    }),
    handler: async ({ params, query, principal }) => {
      known(params.name);
      const m = TABLE.exec(params.name);
      if (!m) throw new ValidationError(`asset ${params.name} is not a warehouse table (database.table)`, 'params.name');
      const table = `${ident(m[1]!)}.${ident(m[2]!)}`;
      const run = (sql: string) => ctx.query.run(sql, { caller: principal.name });
      const described = await run(`DESCRIBE TABLE ${table}`).catch((err: unknown) => {
        // Declared, but no run has created its table yet (a fresh server): nothing to read.
        if (err instanceof Error && /UNKNOWN_(DATABASE|TABLE)/.test(err.message)) throw new NotFoundError('table of asset', params.name);
        throw err;
      });
      const columns = described.rows.map((r) => ({ name: String(r.name), type: String(r.type) }));
      if (query.order !== undefined && !columns.some((c) => c.name === query.order)) {
        throw new ValidationError(`query.order: ${params.name} has no column ${query.order}`, 'query.order');
      }
      const where = query.q === undefined || query.q === '' ? ''
        : `WHERE positionCaseInsensitiveUTF8(arrayStringConcat([${columns.map((c) => `toString(${ident(c.name)})`).join(', ')}], '\\t'), ${literal(query.q)}) > 0`;
      const order = query.order === undefined ? '' : `ORDER BY ${ident(query.order)} ${query.desc === 'true' ? 'DESC' : 'ASC'}`;
      const page = await run(`SELECT * FROM ${table} ${where} ${order} LIMIT ${query.limit} OFFSET ${query.offset}`);
      const [count] = (await run(`SELECT count() AS n FROM ${table} ${where}`)).rows;
      return { columns, rows: page.rows, total: Number(count?.n ?? 0), truncated: page.truncated };
    },
  });
}
