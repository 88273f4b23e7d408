import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The 20-day sample committed with the repository. */
export const SAMPLE_SOURCE = fileURLToPath(new URL('../../data/online-retail/', import.meta.url));

export const retailParams = z
  .object({
    /** A CSV file, a directory of CSV files, a glob, or an http(s) URL. */
    source: z.string().min(1).default(SAMPLE_SOURCE),
    /** Stop the load when more rows than this are malformed; unlimited when absent. */
    maxBadRows: z.coerce.number().int().nonnegative().optional(),
    /** A CSV record longer than this (bytes) is quarantined; the bound keeps a runaway quote from swallowing the file. */
    maxRecordBytes: z.coerce.number().int().min(1024).max(64 * 2 ** 20).default(64 * 1024),
    /** A CSV record spanning more lines than this (quoted line breaks) is quarantined as an unterminated quote. */
    maxRecordLines: z.coerce.number().int().min(1).max(1_000_000).default(100),
    /** Lines with bytes that are not UTF-8: quarantine them, or replace the bytes with U+FFFD and warn with a count. */
    invalidUtf8: z.enum(['quarantine', 'replace']).default('quarantine'),
    /** warn when a day's share of lines without a customer is above this. */
    maxMissingCustomerRatio: z.coerce.number().min(0).max(1).default(0.5),
    /** warn when a day has more non-return lines with UnitPrice ≤ 0 than this. */
    maxUnitPriceAnomalies: z.coerce.number().int().nonnegative().default(10),
    /** warn when a day has more non-return lines with Quantity > 1000 than this. */
    maxQuantityAnomalies: z.coerce.number().int().nonnegative().default(5),
    /**
     * A partition with no rows in the source (the shop was closed): `no-data` ends the run
     * `no_data`, not failed; `error` lets the raw_not_empty check fail it.
     */
    emptyDay: z.enum(['no-data', 'error']).default('no-data'),
  })
  .strict();

export type RetailParams = z.output<typeof retailParams>;
