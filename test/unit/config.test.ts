import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/presets/config.ts';

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
