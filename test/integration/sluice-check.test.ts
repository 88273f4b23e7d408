import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StoreCheck } from '../../src/presets/check-stores.ts';
import { tempHome } from '../helpers/runtime.ts';
import { MINIO_CREDENTIALS as MINIO, service } from '../helpers/services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Checked { code: number; stdout: string; stderr: string; results: StoreCheck[] }

/** `sluice check` in a child process with only the given environment; with --json, its results parsed. */
function check(env: Record<string, string>, args: string[] = []): Promise<Checked> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/sluice.mjs'), '--home', home.home, 'check', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        let results: StoreCheck[] = [];
        try {
          if (args.includes('--json')) results = JSON.parse(stdout) as StoreCheck[];
        } catch { /* the assertion on stdout says what came */ }
        resolve({ code, stdout, stderr, results });
      });
  });
}
const home = tempHome('sluice-check-');

// `sluice check` against the real services, then with each one broken in the way people
// break them: a wrong password, a bucket that is not there, a wrong secret key, a broker
// nobody listens on, a server that accepts and never answers.
describe('sluice check: which store fails, and why', () => {
  let env: Record<string, string> | undefined;
  let s3: S3Client | undefined;
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  let silentUrl = '';
  let closedPort = 0;
  const bucket = `sluice-check-${randomUUID().slice(0, 8)}`;

  before(async (t) => {
    const pg = await service('postgres', t as never);
    const kafka = await service('kafka', t as never);
    const clickhouse = await service('clickhouse', t as never);
    const minio = await service('minio', t as never);
    if (!pg || !kafka || !clickhouse || !minio) return;
    s3 = new S3Client({ endpoint: minio, region: 'us-east-1', forcePathStyle: true, credentials: MINIO });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    env = {
      SLUICE_METADATA_URL: pg, SLUICE_METADATA_SCHEMA: 'sluice_check_absent', SLUICE_KAFKA_BROKERS: kafka, SLUICE_WAREHOUSE_URL: clickhouse,
      SLUICE_S3_BUCKET: bucket, SLUICE_S3_ENDPOINT: minio, SLUICE_S3_PREFIX: 'lake', AWS_ACCESS_KEY_ID: MINIO.accessKeyId, AWS_SECRET_ACCESS_KEY: MINIO.secretAccessKey,
    };
    silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => (silent ? silent.close(r) : r(undefined)));
    if (s3) {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    }
    home.cleanup();
  });

  const by = (r: Checked, name: string) => {
    const found = r.results.find((x) => x.check === name);
    assert.ok(found, `no ${name} check in ${r.stdout} ${r.stderr}`);
    return found;
  };

  it('reaches PostgreSQL, Kafka, the ClickHouse server and MinIO, says what each answered, and leaves nothing behind', async (t) => {
    if (!env) return t.skip('a service is not installed here');
    const r = await check(env, ['--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.results.map((x) => [x.check, x.ok]), [['metadata', true], ['bus', true], ['warehouse', true], ['objects', true]]);
    assert.match(by(r, 'metadata').detail, /^PostgreSQL \d+\.\d+ as sluice; schema sluice_check_absent does not exist yet \(sluice migrate creates it\)$/);
    assert.match(by(r, 'bus').detail, /^1 broker; /);
    assert.match(by(r, 'warehouse').detail, /^ClickHouse 26\.\d+/);
    assert.match(by(r, 'objects').detail, /a probe object was written and deleted/);
    const left = await s3!.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(left.KeyCount ?? 0, 0, 'the probe object is gone');
    assert.ok(r.results.every((x) => !x.target.includes('sluice@') && !x.target.includes(':sluice@')), 'no credentials in the targets');
  });

  it('names each broken store with the server\'s own reason, within the timeout, and exits 1; the healthy ones still pass', async (t) => {
    if (!env) return t.skip('a service is not installed here');
    const pgUrl = new URL(env.SLUICE_METADATA_URL!);
    pgUrl.password = 'wrong-password';
    const started = Date.now();
    const r = await check({
      ...env, SLUICE_METADATA_URL: pgUrl.toString(), SLUICE_KAFKA_BROKERS: `127.0.0.1:${closedPort}`, SLUICE_WAREHOUSE_URL: silentUrl, AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    }, ['--json', '--timeout', '3']);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(by(r, 'metadata').detail, /password authentication failed for user "sluice"/);
    assert.ok(!JSON.stringify(r.results).includes('wrong-password'), 'the password is not echoed');
    assert.match(by(r, 'bus').detail, new RegExp(`127\\.0\\.0\\.1:${closedPort}`));
    assert.equal(by(r, 'warehouse').detail, 'no answer within 3 s');
    assert.match(by(r, 'objects').detail, /signature|SignatureDoesNotMatch|access denied/i);
    assert.ok(r.results.every((x) => !x.ok));
    assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);

    const missing = await check({ ...env, SLUICE_S3_BUCKET: `${bucket}-absent` }, ['--json']);
    assert.equal(missing.code, 1);
    assert.equal(by(missing, 'objects').detail, `bucket ${bucket}-absent: does not exist`);
    assert.ok(by(missing, 'metadata').ok && by(missing, 'bus').ok && by(missing, 'warehouse').ok, missing.stdout);
  });

  it('prints a table with a last line that names the failures', async (t) => {
    if (!env) return t.skip('a service is not installed here');
    const r = await check({ ...env, SLUICE_S3_BUCKET: `${bucket}-absent` });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^check\s+target\s+result\s+ms\s+detail$/m);
    assert.match(r.stdout, /^objects\s+s3:\/\/\S+-absent\/lake at http:\/\/127\.0\.0\.1:\d+\s+FAILED\s+\d+\s+bucket \S+ does not exist$/m);
    assert.match(r.stdout.trim().split('\n').pop() ?? '', /^1 of 4 failed: objects$/);
  });
});
