import { TOPICS } from '../ports/event-bus.ts';
import type { SluiceConfig } from './config.ts';

/** One store or service the config names, and whether this process can use it. */
export interface StoreCheck {
  readonly check: 'metadata' | 'bus' | 'warehouse' | 'query user' | 'objects' | 'launcher';
  /** Where it is, without credentials. */
  readonly target: string;
  readonly ok: boolean;
  /** What it answered, or why it failed, at most MAX_DETAIL characters. */
  readonly detail: string;
  readonly ms: number;
}

const MAX_DETAIL = 400;

/** A URL as it may be printed: user and password dropped. */
function shown(u: string): string {
  try {
    const url = new URL(u);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** The first words that say what went wrong: Node's connection errors are often an AggregateError with no message. */
function reason(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown[]; name?: unknown };
  const first = Array.isArray(e?.errors) && e.errors.length > 0 ? reason(e.errors[0]) : '';
  const own = typeof e?.message === 'string' ? e.message : '';
  const text = own && first && !own.includes(first) ? `${own.replace(/\.$/, '')}: ${first}` : own || first || (typeof e?.code === 'string' ? e.code : String(e?.name ?? err));
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_DETAIL);
}

async function timed(check: StoreCheck['check'], target: string, timeoutMs: number, probe: () => Promise<string>): Promise<StoreCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const detail = await Promise.race([probe(), late]);
    return { check, target, ok: true, detail: detail.slice(0, MAX_DETAIL), ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { check, target, ok: false, detail: reason(err), ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

const embedded = (check: StoreCheck['check'], target: string, detail: string): StoreCheck => ({ check, target, ok: true, detail, ms: 0 });

/**
 * Reaches every store the config names, in parallel, each within `timeoutMs`, and says for
 * each what it answered or exactly why it failed; changes nothing but one probe object in
 * S3, written and deleted. Embedded stores live in this process and are reported as such.
 * What `sluice check` and the chart's `helm test` pod run.
 */
export async function checkStores(config: SluiceConfig, o: { timeoutMs: number }): Promise<StoreCheck[]> {
  const t = o.timeoutMs;
  const checks: Promise<StoreCheck>[] = [];
  const m = config.metadata;
  checks.push(m.kind === 'postgres'
    ? timed('metadata', shown(m.url), t, async () => (await import('../adapters/postgres/postgres-probe.ts')).probePostgres({ connectionString: m.url, schema: m.schema, timeoutMs: t }))
    : Promise.resolve(embedded('metadata', `${config.home}/metadata`, 'PGlite, embedded in this process')));
  const b = config.bus;
  checks.push(b.kind === 'kafka'
    ? timed('bus', b.brokers.join(','), t, async () => (await import('../adapters/kafka/kafka-probe.ts')).probeKafka({
      bootstrap: b.brokers, clientId: `${b.clientId}-check`, sasl: b.sasl, topics: [TOPICS.control, TOPICS.events].map((n) => b.topicPrefix + n), timeoutMs: t,
    }))
    : Promise.resolve(embedded('bus', 'in-process', 'the in-process bus of the control plane')));
  const w = config.warehouse;
  if (w.kind === 'clickhouse') {
    const { probeClickHouse } = await import('../adapters/clickhouse/clickhouse-probe.ts');
    checks.push(timed('warehouse', shown(w.url), t, () => probeClickHouse({ url: w.url, timeoutMs: t })));
    if (w.queryUrl) checks.push(timed('query user', shown(w.queryUrl), t, () => probeClickHouse({ url: w.queryUrl!, timeoutMs: t })));
  } else checks.push(Promise.resolve(embedded('warehouse', `${config.home}/warehouse`, 'chDB, embedded in this process')));
  const s = config.objects;
  if (s.kind === 's3') {
    const target = `s3://${s.bucket}/${s.prefix ?? ''}${s.endpoint ? ` at ${shown(s.endpoint)}` : ''}`;
    checks.push(timed('objects', target, t, async () => (await import('../adapters/s3/s3-probe.ts')).probeS3({ ...s, timeoutMs: t })));
  } else checks.push(Promise.resolve(embedded('objects', `${config.home}/objects`, 'local files')));
  const l = config.launcher;
  if (l.kind === 'kubernetes') {
    const target = `namespace ${l.namespace} (${l.kubeconfig ? `kubeconfig ${l.kubeconfig}` : 'in-cluster service account'})`;
    checks.push(timed('launcher', target, t, async () => (await import('../adapters/kubernetes/kubernetes-probe.ts')).probeKubernetes({ kubeconfig: l.kubeconfig ?? null, namespace: l.namespace })));
  }
  return Promise.all(checks);
}
