import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ValidationError } from '../core/errors.ts';
import { placementSchema } from '../core/placement.ts';
import { firstIssue } from '../core/zod-issue.ts';
import { mergeSources, sourcesSchema } from './source-config.ts';

/** Where a control plane puts its validated config (JSON) for the workers it forks. */
export const WORKER_CONFIG_ENV = 'SLUICE_WORKER_CONFIG';

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
      z.object({
        kind: z.literal('clickhouse'),
        url: url(['http:', 'https:']),
        /**
         * The read-only user the query endpoint connects as (`sluice migrate` creates it);
         * without it the endpoint uses `url`, guarded by the parser checks alone.
         */
        queryUrl: url(['http:', 'https:']).optional(),
      }).strict(),
    ]),
    bus: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('memory') }).strict(),
      z.object({
        kind: z.literal('kafka'),
        brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port')).min(1),
        clientId: z.string().default('sluice'),
        topicPrefix: z.string().default(''),
        /** SASL credentials (SLUICE_KAFKA_USERNAME / SLUICE_KAFKA_PASSWORD, or their `_FILE`s); none by default. */
        sasl: z.object({
          mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).default('SCRAM-SHA-512'),
          username: z.string().min(1),
          password: z.string().min(1),
        }).strict().optional(),
        /** Partition count and retention of the protocol topics, created at start when missing. */
        topics: z.object({
          partitions: z.number().int().min(1).max(1000).default(3),
          retentionMs: z.number().int().min(60_000).default(7 * 24 * 3600_000),
        }).strict().default({ partitions: 3, retentionMs: 7 * 24 * 3600_000 }),
      }).strict(),
    ]).default({ kind: 'memory' }),
    /** Files: a directory under `home` (embedded), or an S3 bucket (AWS, MinIO, ...). */
    objects: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('local') }).strict(),
      z.object({
        kind: z.literal('s3'),
        bucket: z.string().min(1),
        /** Every key is stored under it, e.g. `sluice/`. */
        prefix: z.string().min(1).optional(),
        /** An S3-compatible server such as MinIO; omitted for AWS. */
        endpoint: url(['http:', 'https:']).optional(),
        region: z.string().min(1).default('us-east-1'),
        /** Default: true when an endpoint is set (MinIO and most S3-compatible servers need it). */
        forcePathStyle: z.boolean().optional(),
        /**
         * From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN). Omitted: the
         * AWS SDK's default chain (web identity, instance roles). Secret: never log a config.
         */
        credentials: z.object({
          accessKeyId: z.string().min(1),
          secretAccessKey: z.string().min(1),
          sessionToken: z.string().min(1).optional(),
        }).strict().optional(),
      }).strict().transform((o) => ({ ...o, forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined })),
    ]).default({ kind: 'local' }),
    /**
     * Where attempts run: warm worker processes (`workers`, the default), or a Kubernetes Job
     * per attempt (`kubernetes`), whose pods get the bus, warehouse and object store settings
     * of this config (without secrets: those come from `secretEnv`).
     */
    launcher: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('workers') }).strict(),
      z.object({
        kind: z.literal('kubernetes'),
        namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace name'),
        /** A kubeconfig file; omitted: the pod's service account (in-cluster). */
        kubeconfig: z.string().min(1).optional(),
        image: z.string().min(1).max(512),
        imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
        serviceAccount: z.string().min(1).max(253).optional(),
        command: z.array(z.string().min(1)).min(1).max(10).default(['sluice']),
        nodePoolLabel: z.string().min(1).max(317).default('cloud.google.com/gke-nodepool'),
        /** For steps whose placement leaves something out. */
        defaults: placementSchema.default({}),
        ttlSecondsAfterFinished: z.number().int().min(0).max(604_800).default(3600),
        deadlineSlackSeconds: z.number().int().min(0).max(3600).default(60),
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)).default({}),
        secretEnv: z.array(z.object({
          name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), secret: z.string().min(1).max(253), key: z.string().min(1).max(253),
        }).strict()).max(50).default([]),
        tmpSizeLimit: z.string().regex(/^\d+(Ki|Mi|Gi)$/).default('1Gi'),
        /** How long an attempt's pod waits on a node that stopped answering before it is evicted and retried (Kubernetes' own default: 300). */
        nodeLostSeconds: z.number().int().min(0).max(86_400).default(60),
        cancelGraceMs: z.number().int().min(0).max(600_000).default(10_000),
        imagePullGraceMs: z.number().int().min(0).max(3_600_000).default(60_000),
        unschedulableGraceMs: z.number().int().min(0).max(3_600_000).default(10_000),
      }).strict(),
    ]).default({ kind: 'workers' }),
    /**
     * The control plane's own pod, from the downward API (SLUICE_POD_NAME, SLUICE_POD_NAMESPACE):
     * the leader labels it `sluice.dev/leader=true` and a standby `false`, so the chart's
     * Service sends the API to the leader alone while every replica is ready.
     */
    pod: z.object({
      name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a pod name'),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace name'),
      /** A kubeconfig file; omitted: the pod's service account (in-cluster). */
      kubeconfig: z.string().min(1).optional(),
    }).strict().optional(),
    /** What runs may read: local roots, URL prefixes, private networks, download limits. */
    sources: sourcesSchema,
    /** Warm worker processes the control plane keeps (sluice dev / sluice server). */
    workers: z.number().int().min(1).max(64).default(2),
    /**
     * Attempts each worker process runs at once. Steps mostly wait on the warehouse or the
     * network, so a few per process keep the pool busy; CPU-bound pipelines want 1.
     */
    workerSlots: z.number().int().min(1).max(64).default(4),
    maxConcurrentRuns: z.number().int().min(1).max(1000).default(16),
    /** Run history older than this is pruned by the control plane. */
    retentionDays: z.number().min(1).max(3650).default(30),
    pushgatewayUrl: url(['http:', 'https:']).optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('warn'),
    /**
     * Where the logs go besides stderr (`sluice dev`: `<home>/logs/sluice.log`): every line at
     * logLevel goes to the file, and to stderr only those at logStderrLevel and above, so a
     * terminal shows what needs a human. Handed to the workers with the rest of the config.
     */
    logFile: z.string().min(1).optional(),
    logStderrLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
    /** How often running attempts send a heartbeat. */
    heartbeatMs: z.number().int().positive().default(3000),
    /** How often the control plane weighs the lag of streams that scale on it (`scale`). */
    scaleCheckMs: z.number().int().min(100).max(600_000).default(5000),
    /**
     * Event streams (SSE): bytes one client may have waiting in memory, how long a client
     * may keep a write waiting before its stream is closed, how long one stream lasts before
     * the client is made to reconnect (with Last-Event-ID), and how many streams one token
     * and the whole server hold open.
     */
    sse: z.object({
      maxBufferedBytes: z.number().int().min(4096).max(64 << 20).default(1 << 20),
      stallMs: z.number().int().min(100).max(600_000).default(30_000),
      maxStreamMs: z.number().int().min(100).max(86_400_000).default(3_600_000),
      maxStreamsPerToken: z.number().int().min(1).max(10_000).default(8),
      maxStreams: z.number().int().min(1).max(100_000).default(256),
    }).strict().default({ maxBufferedBytes: 1 << 20, stallMs: 30_000, maxStreamMs: 3_600_000, maxStreamsPerToken: 8, maxStreams: 256 }),
    /**
     * Memory one pipeline statement may use in the warehouse; sorts, group-bys and joins
     * spill to disk at an eighth of it, so SQL steps stay bounded as their input grows.
     */
    statementMemoryBytes: z.number().int().min(64 << 20).default(2 ** 31),
    /** Limits of `POST /query` and `sluice query`: each statement's time, result size and memory, and statements at once. */
    query: z.object({
      timeoutMs: z.number().int().min(1000).max(3_600_000).default(30_000),
      maxRows: z.number().int().min(1).max(1_000_000).default(10_000),
      maxBytes: z.number().int().min(1024).max(256 << 20).default(16 << 20),
      maxMemoryBytes: z.number().int().min(16 << 20).default(2 ** 30),
      maxConcurrent: z.number().int().min(1).max(64).default(4),
    }).strict().default({ timeoutMs: 30_000, maxRows: 10_000, maxBytes: 16 << 20, maxMemoryBytes: 2 ** 30, maxConcurrent: 4 }),
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
  const { cwd } = inputs;
  const env = withSecretFiles(inputs.env, cwd);
  const dirs = [BUNDLED_PIPELINES];
  const local = resolve(cwd, 'pipelines');
  if (existsSync(local)) dirs.push(local);
  for (const d of (env.SLUICE_PIPELINES ?? '').split(':').filter(Boolean)) dirs.push(resolve(cwd, d));
  for (const d of inputs.pipelines ?? []) dirs.push(resolve(cwd, d));
  const unique = [...new Set(dirs.map((d) => resolve(d)))];
  const raw = {
    home: inputs.home ?? env.SLUICE_HOME,
    pipelines: unique,
    metadata: env.SLUICE_METADATA_URL
      ? { kind: 'postgres', url: env.SLUICE_METADATA_URL, ...(env.SLUICE_METADATA_SCHEMA ? { schema: env.SLUICE_METADATA_SCHEMA } : {}) }
      : undefined,
    warehouse: env.SLUICE_WAREHOUSE_URL
      ? { kind: 'clickhouse', url: env.SLUICE_WAREHOUSE_URL, ...(env.SLUICE_WAREHOUSE_QUERY_URL ? { queryUrl: env.SLUICE_WAREHOUSE_QUERY_URL } : {}) }
      : undefined,
    statementMemoryBytes: env.SLUICE_STATEMENT_MEMORY_BYTES ? Number(env.SLUICE_STATEMENT_MEMORY_BYTES) : undefined,
    query: env.SLUICE_QUERY_TIMEOUT_MS ? { timeoutMs: Number(env.SLUICE_QUERY_TIMEOUT_MS) } : undefined,
    bus: env.SLUICE_KAFKA_BROKERS
      ? {
          kind: 'kafka',
          brokers: env.SLUICE_KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
          ...(env.SLUICE_KAFKA_TOPIC_PREFIX ? { topicPrefix: env.SLUICE_KAFKA_TOPIC_PREFIX } : {}),
          ...(env.SLUICE_KAFKA_USERNAME || env.SLUICE_KAFKA_PASSWORD
            ? { sasl: { username: env.SLUICE_KAFKA_USERNAME, password: env.SLUICE_KAFKA_PASSWORD, ...(env.SLUICE_KAFKA_SASL_MECHANISM ? { mechanism: env.SLUICE_KAFKA_SASL_MECHANISM } : {}) } }
            : {}),
          ...(env.SLUICE_KAFKA_PARTITIONS ? { topics: { partitions: Number(env.SLUICE_KAFKA_PARTITIONS), retentionMs: Number(env.SLUICE_KAFKA_RETENTION_MS ?? 7 * 24 * 3600_000) } } : {}),
        }
      : undefined,
    objects: env.SLUICE_S3_BUCKET
      ? {
          kind: 's3',
          bucket: env.SLUICE_S3_BUCKET,
          ...(env.SLUICE_S3_PREFIX ? { prefix: env.SLUICE_S3_PREFIX } : {}),
          ...(env.SLUICE_S3_ENDPOINT ? { endpoint: env.SLUICE_S3_ENDPOINT } : {}),
          ...(env.SLUICE_S3_REGION ? { region: env.SLUICE_S3_REGION } : {}),
        }
      : undefined,
    workers: env.SLUICE_WORKERS ? Number(env.SLUICE_WORKERS) : undefined,
    workerSlots: env.SLUICE_WORKER_SLOTS ? Number(env.SLUICE_WORKER_SLOTS) : undefined,
    maxConcurrentRuns: env.SLUICE_MAX_CONCURRENT_RUNS ? Number(env.SLUICE_MAX_CONCURRENT_RUNS) : undefined,
    retentionDays: env.SLUICE_RETENTION_DAYS ? Number(env.SLUICE_RETENTION_DAYS) : undefined,
    heartbeatMs: env.SLUICE_HEARTBEAT_MS ? Number(env.SLUICE_HEARTBEAT_MS) : undefined,
    scaleCheckMs: env.SLUICE_SCALE_CHECK_MS ? Number(env.SLUICE_SCALE_CHECK_MS) : undefined,
    pushgatewayUrl: env.SLUICE_PUSHGATEWAY_URL || undefined,
    logLevel: inputs.logLevel ?? env.SLUICE_LOG_LEVEL ?? undefined,
  };
  // A JSON config file (SLUICE_CONFIG) gives the base; flags and environment override it.
  const file = env.SLUICE_CONFIG ? readConfigFile(resolve(cwd, env.SLUICE_CONFIG)) : {};
  const merged: Record<string, unknown> = { ...file };
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined && !(k === 'pipelines' && Array.isArray(file.pipelines))) merged[k] = v;
  }
  if (Array.isArray(file.pipelines)) merged.pipelines = [...new Set([...unique, ...(file.pipelines as string[]).map((d) => resolve(cwd, d))])];
  merged.home = resolve(cwd, typeof merged.home === 'string' ? merged.home : '.sluice');
  if (raw.query && typeof file.query === 'object') merged.query = { ...(file.query as object), ...raw.query };
  merged.metadata ??= { kind: 'pglite' };
  merged.warehouse ??= { kind: 'chdb' };
  merged.sources = mergeSources(file.sources, sourcesFromEnv(env, cwd), cwd);
  if (env.SLUICE_POD_NAME || env.SLUICE_POD_NAMESPACE) {
    const pod = typeof file.pod === 'object' && file.pod !== null ? file.pod : {};
    merged.pod = { ...pod, ...(env.SLUICE_POD_NAME ? { name: env.SLUICE_POD_NAME } : {}), ...(env.SLUICE_POD_NAMESPACE ? { namespace: env.SLUICE_POD_NAMESPACE } : {}) };
  }
  const s3Settings = ['SLUICE_S3_PREFIX', 'SLUICE_S3_ENDPOINT', 'SLUICE_S3_REGION'].filter((k) => env[k]);
  if (!env.SLUICE_S3_BUCKET && s3Settings.length > 0) {
    throw new ValidationError(`configuration: ${s3Settings.join(', ')} set without SLUICE_S3_BUCKET`, 'SLUICE_S3_BUCKET');
  }
  // Credentials come from the AWS variables (or a config file), whichever section named the bucket.
  const objects = merged.objects as { kind?: unknown } | undefined;
  if (objects?.kind === 's3' && (env.AWS_ACCESS_KEY_ID || env.AWS_SECRET_ACCESS_KEY)) {
    merged.objects = {
      ...objects,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      },
    };
  }
  const r = configSchema.safeParse(merged);
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    const where = env.SLUICE_CONFIG ? ` (${env.SLUICE_CONFIG} and environment)` : '';
    throw new ValidationError(`configuration${where}: ${field || '(root)'}: ${message}`, field);
  }
  return Object.freeze(r.data);
}

const hasPassword = (u: string): boolean => {
  try {
    return new URL(u).password !== '';
  } catch {
    return false;
  }
};

/**
 * The env variables that make `loadConfig` open the same bus, warehouse and object store as
 * `config` (the inverse of the reading above), for a process started elsewhere, such as an
 * attempt's pod. Nothing secret: a URL with a password and the S3 credentials are left out,
 * for Secrets to supply.
 */
export function storeEnvOf(config: SluiceConfig): Record<string, string> {
  const env: Record<string, string> = { SLUICE_HEARTBEAT_MS: String(config.heartbeatMs), SLUICE_LOG_LEVEL: config.logLevel };
  if (config.bus.kind === 'kafka') {
    env.SLUICE_KAFKA_BROKERS = config.bus.brokers.join(',');
    if (config.bus.topicPrefix) env.SLUICE_KAFKA_TOPIC_PREFIX = config.bus.topicPrefix;
    // The mechanism only: a pod authenticates as its own user, from a Secret (launcher.secretEnv).
    if (config.bus.sasl) env.SLUICE_KAFKA_SASL_MECHANISM = config.bus.sasl.mechanism;
  }
  if (config.warehouse.kind === 'clickhouse' && !hasPassword(config.warehouse.url)) env.SLUICE_WAREHOUSE_URL = config.warehouse.url;
  if (config.objects.kind === 's3') {
    env.SLUICE_S3_BUCKET = config.objects.bucket;
    if (config.objects.prefix) env.SLUICE_S3_PREFIX = config.objects.prefix;
    if (config.objects.endpoint) env.SLUICE_S3_ENDPOINT = config.objects.endpoint;
    env.SLUICE_S3_REGION = config.objects.region;
  }
  return env;
}

/** Variables a mounted Secret may give as a file (`<NAME>_FILE`), so no secret need be in the environment. */
const FILE_VARIABLES = [
  'SLUICE_METADATA_URL', 'SLUICE_METADATA_USER', 'SLUICE_METADATA_PASSWORD',
  'SLUICE_WAREHOUSE_URL', 'SLUICE_WAREHOUSE_USER', 'SLUICE_WAREHOUSE_PASSWORD',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'SLUICE_KAFKA_USERNAME', 'SLUICE_KAFKA_PASSWORD',
] as const;
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The environment with each `<NAME>_FILE` read into `<NAME>` (one trailing newline dropped,
 * as Secrets written by hand often have), and the user and password variables put into
 * their URL, so a chart can mount `postgresql-credentials` as files and keep the URL plain.
 */
function withSecretFiles(env: Readonly<Record<string, string | undefined>>, cwd: string): Readonly<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new ValidationError(`configuration: both ${name} and ${name}_FILE are set; keep one`, name);
    const path = resolve(cwd, file);
    let text: string;
    try {
      const buf = readFileSync(path);
      if (buf.length > MAX_SECRET_FILE_BYTES) throw new Error(`${buf.length} bytes, more than ${MAX_SECRET_FILE_BYTES}`);
      text = buf.toString('utf8');
    } catch (err) {
      throw new ValidationError(`configuration: ${name}_FILE ${path}: ${(err as Error).message}`, `${name}_FILE`, err);
    }
    out[name] = text.replace(/\r?\n$/, '');
  }
  for (const store of ['METADATA', 'WAREHOUSE'] as const) {
    const user = out[`SLUICE_${store}_USER`];
    const password = out[`SLUICE_${store}_PASSWORD`];
    const raw = out[`SLUICE_${store}_URL`];
    if ((user === undefined && password === undefined) || !raw) continue;
    try {
      const u = new URL(raw);
      if (user !== undefined) u.username = encodeURIComponent(user);
      if (password !== undefined) u.password = encodeURIComponent(password);
      out[`SLUICE_${store}_URL`] = u.toString();
    } catch {
      // The URL itself is reported by the schema, naming the field.
    }
  }
  return out;
}

const flag = (v: string): unknown => ({ true: true, '1': true, yes: true, false: false, '0': false, no: false })[v.toLowerCase()] ?? v;

/**
 * The `SLUICE_SOURCE_*` variables as a partial `sources` section. Roots are `:`-separated
 * like SLUICE_PIPELINES, URL prefixes space-separated or comma-separated (URLs contain `:`;
 * a comma splits only before the next `http(s)://`, since a URL may hold one).
 */
export function sourcesFromEnv(env: Readonly<Record<string, string | undefined>>, cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.SLUICE_SOURCE_TRUST) out.trust = env.SLUICE_SOURCE_TRUST;
  if (env.SLUICE_SOURCE_ROOTS !== undefined) out.roots = env.SLUICE_SOURCE_ROOTS.split(':').filter(Boolean).map((r) => resolve(cwd, r));
  if (env.SLUICE_SOURCE_URL_PREFIXES !== undefined) out.urlPrefixes = env.SLUICE_SOURCE_URL_PREFIXES.split(/\s+|,\s*(?=https?:\/\/)/i).filter(Boolean);
  if (env.SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS) out.allowPrivateNetworks = flag(env.SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS);
  if (env.SLUICE_SOURCE_CONNECT_TIMEOUT_MS) out.connectTimeoutMs = Number(env.SLUICE_SOURCE_CONNECT_TIMEOUT_MS);
  if (env.SLUICE_SOURCE_IDLE_TIMEOUT_MS) out.idleTimeoutMs = Number(env.SLUICE_SOURCE_IDLE_TIMEOUT_MS);
  if (env.SLUICE_SOURCE_MAX_BYTES) out.maxBytes = Number(env.SLUICE_SOURCE_MAX_BYTES);
  return out;
}

/**
 * The inverse of sourcesFromEnv: the `SLUICE_SOURCE_*` variables that give a process started
 * elsewhere (an attempt's pod) the same source policy as `sources`. Roots go only when set:
 * unset, the pod's own shipped data directory and inbox apply, as they do here.
 */
export function sourcesEnvOf(sources: SluiceConfig['sources']): Record<string, string> {
  const env: Record<string, string> = {
    SLUICE_SOURCE_URL_PREFIXES: sources.urlPrefixes.join(' '),
    SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS: String(sources.allowPrivateNetworks),
    SLUICE_SOURCE_CONNECT_TIMEOUT_MS: String(sources.connectTimeoutMs),
    SLUICE_SOURCE_IDLE_TIMEOUT_MS: String(sources.idleTimeoutMs),
    SLUICE_SOURCE_MAX_BYTES: String(sources.maxBytes),
  };
  if (sources.trust) env.SLUICE_SOURCE_TRUST = sources.trust;
  if (sources.roots) env.SLUICE_SOURCE_ROOTS = sources.roots.join(':');
  return env;
}

const clientEnvSchema = z.object({
  url: url(['http:', 'https:']).optional(),
  token: z.string().min(1).max(4096).optional(),
  host: z.string().min(1).max(255).optional(),
  port: z.string().regex(/^\d{1,5}$/, 'a port number').optional(),
});

export type ClientEnv = Readonly<z.output<typeof clientEnvSchema>>;

/**
 * What the CLI takes from the environment besides the stores: the server it talks to
 * (SLUICE_URL, for `ping`/`stop` against a remote one), the token it sends (SLUICE_TOKEN),
 * and where `sluice server` listens (SLUICE_HOST, SLUICE_PORT).
 */
export function clientEnv(env: Readonly<Record<string, string | undefined>>): ClientEnv {
  const r = clientEnvSchema.safeParse({
    url: env.SLUICE_URL || undefined, token: env.SLUICE_TOKEN || undefined, host: env.SLUICE_HOST || undefined, port: env.SLUICE_PORT || undefined,
  });
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    throw new ValidationError(`configuration: SLUICE_${field.toUpperCase()}: ${message}`, `SLUICE_${field.toUpperCase()}`);
  }
  return Object.freeze(r.data);
}

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new ValidationError(`config file not found: ${path}`, 'SLUICE_CONFIG');
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(`config file ${path}: ${(err as Error).message}`, 'SLUICE_CONFIG', err);
  }
}
