import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';

/**
 * What a pool tells a forked worker on its command line, and what the worker tells the
 * pool over IPC. Shared by the pool (which formats) and the worker entry (which parses),
 * so the two never drift apart.
 */
export interface WorkerProcessArgs {
  /** The Worker's id: reported in `attempt.started`, used by the pool to find the process. */
  readonly workerId: string;
  /** Reach the parent's bus and/or warehouse through the IPC bridge instead of connecting. */
  readonly bridge: { readonly bus: boolean; readonly warehouse: boolean };
  readonly home?: string;
  readonly pipelines: readonly string[];
  readonly heartbeatMs?: number;
  readonly logLevel?: string;
  /** How long a cancelled attempt may take to stop when the worker is told to shut down. */
  readonly graceMs?: number;
}

export function formatWorkerArgs(a: WorkerProcessArgs): string[] {
  const out = ['--worker-id', a.workerId];
  const bridged = [a.bridge.bus ? 'bus' : null, a.bridge.warehouse ? 'warehouse' : null].filter((x) => x !== null);
  if (bridged.length > 0) out.push('--bridge', bridged.join(','));
  if (a.home !== undefined) out.push('--home', a.home);
  for (const p of a.pipelines) out.push('--pipelines', p);
  if (a.heartbeatMs !== undefined) out.push('--heartbeat-ms', String(a.heartbeatMs));
  if (a.logLevel !== undefined) out.push('--log-level', a.logLevel);
  if (a.graceMs !== undefined) out.push('--grace-ms', String(a.graceMs));
  return out;
}

const positiveInt = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError(`${flag} must be a positive integer, got ${v}`, flag);
  return n;
};

export function parseWorkerArgs(argv: readonly string[]): WorkerProcessArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      'worker-id': { type: 'string' },
      bridge: { type: 'string' },
      home: { type: 'string' },
      pipelines: { type: 'string', multiple: true },
      'heartbeat-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'grace-ms': { type: 'string' },
    },
  });
  const workerId = values['worker-id'];
  if (!workerId || !/^[\w.-]+$/.test(workerId)) throw new ValidationError(`--worker-id must be letters, digits, . _ or -, got ${workerId}`, 'worker-id');
  const bridged = (values.bridge ?? '').split(',').filter(Boolean);
  const unknown = bridged.filter((b) => b !== 'bus' && b !== 'warehouse');
  if (unknown.length > 0) throw new ValidationError(`--bridge takes bus and/or warehouse, got ${unknown.join(',')}`, 'bridge');
  return {
    workerId,
    bridge: { bus: bridged.includes('bus'), warehouse: bridged.includes('warehouse') },
    home: values.home,
    pipelines: values.pipelines ?? [],
    heartbeatMs: positiveInt('--heartbeat-ms', values['heartbeat-ms']),
    logLevel: values['log-level'],
    graceMs: positiveInt('--grace-ms', values['grace-ms']),
  };
}

export const POOL_CHANNEL = 'sluice.pool';

/**
 * A worker process's reports to its pool: ready to take work, failed to start, or done
 * reloading its pipelines (`ok` false: the reload failed and it keeps what it had).
 */
export const poolMessageSchema = z.discriminatedUnion('t', [
  z.object({ ch: z.literal(POOL_CHANNEL), v: z.literal(1), t: z.literal('ready'), workerId: z.string(), pid: z.number().int() }),
  z.object({ ch: z.literal(POOL_CHANNEL), v: z.literal(1), t: z.literal('fatal'), workerId: z.string(), message: z.string() }),
  z.object({ ch: z.literal(POOL_CHANNEL), v: z.literal(1), t: z.literal('reloaded'), workerId: z.string(), id: z.string(), ok: z.boolean(), message: z.string().optional() }),
]);
export type PoolMessage = z.infer<typeof poolMessageSchema>;

/**
 * What a pool tells its workers: load the pipelines again (the control plane reloaded
 * them). A worker keeps the versions it had, for attempts of runs that started before.
 */
export const poolCommandSchema = z.object({ ch: z.literal(POOL_CHANNEL), v: z.literal(1), t: z.literal('reload'), id: z.string() });
export type PoolCommand = z.infer<typeof poolCommandSchema>;
