import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_CONFIG_ENV, configSchema, loadConfig } from '../../src/presets/config.ts';
import { BUNDLED_DATA, sourcePolicyOf, withSourceTrust } from '../../src/presets/source-policy.ts';
import { tempHome } from '../helpers/runtime.ts';

const load = (env: Record<string, string>, cwd = '/work') => loadConfig({ env, cwd, home: '/state' });

test('defaults: the command decides the trust; restricted roots are the shipped data and <home>/inbox; no URL prefixes', () => {
  const config = load({});
  assert.equal(config.sources.trust, undefined);
  assert.deepEqual(sourcePolicyOf(config, 'trusted'), {
    trust: 'trusted', roots: [BUNDLED_DATA, '/state/inbox'], urlPrefixes: [], allowPrivateNetworks: false,
    connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBytes: 1 << 30,
  });
  assert.equal(sourcePolicyOf(config, 'restricted').trust, 'restricted');
  assert.ok(Object.isFrozen(sourcePolicyOf(config, 'restricted')));
});

test('SLUICE_SOURCE_* set every key; roots resolve against the working directory', () => {
  const config = load({
    SLUICE_SOURCE_TRUST: 'restricted',
    SLUICE_SOURCE_ROOTS: 'inbox:/srv/data',
    SLUICE_SOURCE_URL_PREFIXES: 'https://a.example/x/, https://b.example/',
    SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS: 'true',
    SLUICE_SOURCE_CONNECT_TIMEOUT_MS: '2000',
    SLUICE_SOURCE_IDLE_TIMEOUT_MS: '5000',
    SLUICE_SOURCE_MAX_BYTES: '1048576',
  });
  assert.deepEqual(sourcePolicyOf(config, 'trusted'), {
    trust: 'restricted', roots: ['/work/inbox', '/srv/data'], urlPrefixes: ['https://a.example/x/', 'https://b.example/'],
    allowPrivateNetworks: true, connectTimeoutMs: 2000, idleTimeoutMs: 5000, maxBytes: 1_048_576,
  });
});

test('bad values are refused by name', () => {
  assert.throws(() => load({ SLUICE_SOURCE_TRUST: 'everyone' }), /sources\.trust/);
  assert.throws(() => load({ SLUICE_SOURCE_URL_PREFIXES: 'file:///etc/' }), /sources\.urlPrefixes.*http or https/);
  assert.throws(() => load({ SLUICE_SOURCE_ALLOW_PRIVATE_NETWORKS: 'maybe' }), /sources\.allowPrivateNetworks/);
  assert.throws(() => load({ SLUICE_SOURCE_IDLE_TIMEOUT_MS: 'soon' }), /sources\.idleTimeoutMs/);
});

test('a config file sets sources, relative roots against the working directory; the environment overrides per key', () => {
  const dir = tempHome();
  try {
    const file = join(dir.home, 'sluice.json');
    writeFileSync(file, JSON.stringify({ sources: { roots: ['drop'], maxBytes: 100, allowPrivateNetworks: true } }));
    const config = load({ SLUICE_CONFIG: file, SLUICE_SOURCE_MAX_BYTES: '200' }, dir.home);
    assert.deepEqual([config.sources.roots, config.sources.maxBytes, config.sources.allowPrivateNetworks], [[join(dir.home, 'drop')], 200, true]);
  } finally {
    dir.cleanup();
  }
});

test('the trust a control plane decided survives the trip to its workers', () => {
  const handed = JSON.stringify(withSourceTrust(load({}), 'restricted'));
  const env = { [WORKER_CONFIG_ENV]: handed };
  const worker = configSchema.parse(JSON.parse(env[WORKER_CONFIG_ENV]));
  // A worker's own fallback would be the same here, but the config now says it outright.
  assert.equal(sourcePolicyOf(worker, 'trusted').trust, 'restricted');
  assert.equal(withSourceTrust(load({ SLUICE_SOURCE_TRUST: 'trusted' }), 'restricted').sources.trust, 'trusted');
});
