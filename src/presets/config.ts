import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ValidationError } from '../core/errors.ts';

/** The pipelines shipped with Sluice. */
export const BUNDLED_PIPELINES = fileURLToPath(new URL('../../pipelines/', import.meta.url));

const url = (protocols: string[]) =>
  z.string().refine((u) => {
    try {
      return protocols.includes(new URL(u).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(' or ')} URL`);

export const configSchema = z
  .object({
    /** Where embedded state lives: metadata, warehouse, objects. */
    home: z.string().min(1),
    /** Directories searched for pipelines, in order. */
    pipelines: z.array(z.string().min(1)).min(1),
    metadata: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('pglite') }).strict(),
      z.object({ kind: z.literal('postgres'), url: url(['postgres:', 'postgresql:']), schema: z.string().default('public') }).strict(),
    ]),
    warehouse: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('chdb') }).strict(),
      z.object({ kind: z.literal('clickhouse'), url: url(['http:', 'https:']) }).strict(),
    ]),
    pushgatewayUrl: url(['http:', 'https:']).optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('warn'),
    /** How often running attempts send a heartbeat. */
    heartbeatMs: z.number().int().positive().default(3000),
  })
  .strict();

export type SluiceConfig = Readonly<z.output<typeof configSchema>>;

export interface ConfigInputs {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly home?: string;
  readonly pipelines?: readonly string[];
  readonly logLevel?: string;
}

/**
 * The one place configuration is read: flags over environment over defaults, validated
 * once and frozen. Adapters receive slices of the result and never look at the environment.
 */
export function loadConfig(inputs: ConfigInputs): SluiceConfig {
  const { env, cwd } = inputs;
  const dirs = [BUNDLED_PIPELINES];
  const local = resolve(cwd, 'pipelines');
  if (existsSync(local)) dirs.push(local);
  for (const d of (env.SLUICE_PIPELINES ?? '').split(':').filter(Boolean)) dirs.push(resolve(cwd, d));
  for (const d of inputs.pipelines ?? []) dirs.push(resolve(cwd, d));
  const unique = [...new Set(dirs.map((d) => resolve(d)))];
  const raw = {
    home: resolve(cwd, inputs.home ?? env.SLUICE_HOME ?? '.sluice'),
    pipelines: unique,
    metadata: env.SLUICE_METADATA_URL
      ? { kind: 'postgres', url: env.SLUICE_METADATA_URL, ...(env.SLUICE_METADATA_SCHEMA ? { schema: env.SLUICE_METADATA_SCHEMA } : {}) }
      : { kind: 'pglite' },
    warehouse: env.SLUICE_WAREHOUSE_URL ? { kind: 'clickhouse', url: env.SLUICE_WAREHOUSE_URL } : { kind: 'chdb' },
    pushgatewayUrl: env.SLUICE_PUSHGATEWAY_URL || undefined,
    logLevel: inputs.logLevel ?? env.SLUICE_LOG_LEVEL ?? undefined,
  };
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ValidationError(`configuration: ${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
  }
  return Object.freeze(r.data);
}
