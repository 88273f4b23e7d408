import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/core/errors.ts';
import { clientEnv, configSchema, loadConfig } from '../../src/presets/config.ts';

const cwd = mkdtempSync(join(tmpdir(), 'sluice-config-'));

test('defaults: embedded everything under ./.sluice', () => {
  const c = loadConfig({ env: {}, cwd });
  assert.equal(c.home, join(cwd, '.sluice'));
  assert.deepEqual(c.metadata, { kind: 'pglite' });
  assert.deepEqual(c.warehouse, { kind: 'chdb' });
  assert.deepEqual(c.bus, { kind: 'memory' });
  assert.ok(Object.isFrozen(c));
});

test('cluster preset from the environment, with Kafka topic settings', () => {
  const c = loadConfig({
    env: {
      SLUICE_METADATA_URL: 'postgres://u:p@db:5432/sluice', SLUICE_WAREHOUSE_URL: 'http://ch:8123',
      SLUICE_KAFKA_BROKERS: 'k1:9092, k2:9092', SLUICE_KAFKA_PARTITIONS: '6', SLUICE_KAFKA_RETENTION_MS: '3600000', SLUICE_WORKERS: '4',
    },
    cwd,
  });
  assert.equal(c.metadata.kind, 'postgres');
  assert.equal(c.warehouse.kind, 'clickhouse');
  assert.deepEqual(c.bus, { kind: 'kafka', brokers: ['k1:9092', 'k2:9092'], clientId: 'sluice', topicPrefix: '', topics: { partitions: 6, retentionMs: 3_600_000 } });
  assert.equal(c.workers, 4);
});

test('a JSON config file is the base; the environment overrides it; errors name the field', () => {
  const file = join(cwd, 'sluice.json');
  writeFileSync(file, JSON.stringify({ home: 'state', workers: 3, retentionDays: 7, bus: { kind: 'kafka', brokers: ['k:9092'] } }));
  const c = loadConfig({ env: { SLUICE_CONFIG: file, SLUICE_WORKERS: '5' }, cwd });
  assert.equal(c.home, join(cwd, 'state'));
  assert.equal(c.workers, 5);
  assert.equal(c.retentionDays, 7);
  assert.equal(c.bus.kind, 'kafka');
  writeFileSync(file, JSON.stringify({ workers: 0 }));
  assert.throws(() => loadConfig({ env: { SLUICE_CONFIG: file }, cwd }), /configuration .*: workers: /);
  writeFileSync(file, JSON.stringify({ nope: 1 }));
  assert.throws(() => loadConfig({ env: { SLUICE_CONFIG: file }, cwd }), /nope/);
  assert.throws(() => loadConfig({ env: { SLUICE_METADATA_URL: 'mysql://x' }, cwd }), /metadata\.url/);
  assert.throws(() => loadConfig({ env: { SLUICE_KAFKA_BROKERS: 'no-port' }, cwd }), /bus\.brokers\.0: host:port/);
  assert.throws(() => loadConfig({ env: { SLUICE_CONFIG: join(cwd, 'missing.json') }, cwd }), /config file not found/);
});

test('objects: a local directory by default, or an S3 bucket from the environment or a file', () => {
  assert.deepEqual(loadConfig({ env: { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' }, cwd }).objects, { kind: 'local' });
  const minio = loadConfig({
    env: {
      SLUICE_S3_BUCKET: 'lake', SLUICE_S3_ENDPOINT: 'http://127.0.0.1:59000', SLUICE_S3_PREFIX: 'sluice/',
      AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret',
    },
    cwd,
  });
  assert.deepEqual(minio.objects, {
    kind: 's3', bucket: 'lake', prefix: 'sluice/', endpoint: 'http://127.0.0.1:59000', region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
  });
  // Workers re-parse the parent's config from JSON and must get the same stores.
  assert.deepEqual(configSchema.parse(JSON.parse(JSON.stringify(minio))), minio);
  // AWS itself: virtual-hosted style, and no credentials leaves them to the SDK's default chain.
  const aws = loadConfig({ env: { SLUICE_S3_BUCKET: 'lake', SLUICE_S3_REGION: 'eu-west-1' }, cwd });
  assert.deepEqual(aws.objects, { kind: 's3', bucket: 'lake', region: 'eu-west-1', forcePathStyle: false });

  const file = join(cwd, 'objects.json');
  writeFileSync(file, JSON.stringify({ objects: { kind: 's3', bucket: 'from-file', endpoint: 'http://m:9000', forcePathStyle: false } }));
  const fromFile = loadConfig({ env: { SLUICE_CONFIG: file, AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }, cwd });
  assert.deepEqual(fromFile.objects, {
    kind: 's3', bucket: 'from-file', endpoint: 'http://m:9000', region: 'us-east-1', forcePathStyle: false,
    credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
  });

  assert.throws(() => loadConfig({ env: { SLUICE_S3_ENDPOINT: 'http://m:9000' }, cwd }), /SLUICE_S3_ENDPOINT set without SLUICE_S3_BUCKET/);
  assert.throws(() => loadConfig({ env: { SLUICE_S3_BUCKET: 'lake', SLUICE_S3_ENDPOINT: 'ftp://m' }, cwd }), /objects\.endpoint: must be a http: or https: URL/);
  assert.throws(
    () => loadConfig({ env: { SLUICE_S3_BUCKET: 'lake', AWS_SECRET_ACCESS_KEY: 'very-secret-value' }, cwd }),
    (err: Error) => {
      assert.match(err.message, /objects\.credentials\.accessKeyId/);
      assert.ok(!err.message.includes('very-secret-value'), 'the secret stays out of the message');
      return true;
    },
  );
});

test('the CLI environment is validated like the rest: a bad SLUICE_PORT or SLUICE_URL is named', () => {
  assert.deepEqual({ ...clientEnv({ SLUICE_URL: 'http://127.0.0.1:4200', SLUICE_TOKEN: 't', SLUICE_PORT: '4300' }) }, { url: 'http://127.0.0.1:4200', token: 't', host: undefined, port: '4300' });
  assert.throws(() => clientEnv({ SLUICE_PORT: 'eighty' }), (e: Error) => e instanceof ValidationError && /SLUICE_PORT: a port number/.test(e.message));
  assert.throws(() => clientEnv({ SLUICE_URL: 'file:///etc/passwd' }), (e: Error) => e instanceof ValidationError && /SLUICE_URL: must be a http: or https: URL/.test(e.message));
});

test('secrets come from mounted files (<NAME>_FILE); user and password files go into their URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-secret-files-'));
  try {
    writeFileSync(join(dir, 'username'), 'sluice\n');
    writeFileSync(join(dir, 'password'), 'p@ss:w/rd\n');
    writeFileSync(join(dir, 'secretKey'), 'minio-secret');
    const c = loadConfig({
      env: {
        SLUICE_METADATA_URL: 'postgres://postgresql:5432/sluice', SLUICE_METADATA_USER_FILE: join(dir, 'username'), SLUICE_METADATA_PASSWORD_FILE: join(dir, 'password'),
        SLUICE_S3_BUCKET: 'lake', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY_FILE: join(dir, 'secretKey'),
      },
      cwd: dir,
    });
    assert.equal(c.metadata.kind === 'postgres' && c.metadata.url, 'postgres://sluice:p%40ss%3Aw%2Frd@postgresql:5432/sluice');
    assert.equal(c.objects.kind === 's3' && c.objects.credentials?.secretAccessKey, 'minio-secret');
    assert.throws(() => loadConfig({ env: { SLUICE_WAREHOUSE_URL_FILE: join(dir, 'missing') }, cwd: dir }), /SLUICE_WAREHOUSE_URL_FILE .*missing: ENOENT/);
    assert.throws(() => loadConfig({ env: { AWS_ACCESS_KEY_ID: 'a', AWS_ACCESS_KEY_ID_FILE: join(dir, 'username') }, cwd: dir }), /both AWS_ACCESS_KEY_ID and AWS_ACCESS_KEY_ID_FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the control plane\'s pod comes from the downward API variables; the kubeconfig from the file; a bad name is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pod-'));
  try {
    assert.equal(loadConfig({ env: {}, cwd: dir }).pod, undefined, 'off Kubernetes: none');
    const file = join(dir, 'sluice.json');
    writeFileSync(file, JSON.stringify({ pod: { kubeconfig: '/etc/kube/config' } }));
    const c = loadConfig({ env: { SLUICE_CONFIG: file, SLUICE_POD_NAME: 'sluice-7d9f-x2x', SLUICE_POD_NAMESPACE: 'data' }, cwd: dir });
    assert.deepEqual(c.pod, { kubeconfig: '/etc/kube/config', name: 'sluice-7d9f-x2x', namespace: 'data' });
    assert.throws(() => loadConfig({ env: { SLUICE_POD_NAME: 'x' }, cwd: dir }), /pod\.namespace/);
    assert.throws(() => loadConfig({ env: { SLUICE_POD_NAME: 'Not A Pod', SLUICE_POD_NAMESPACE: 'data' }, cwd: dir }), /pod\.name: a pod name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
