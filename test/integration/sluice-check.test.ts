import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
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
const run = promisify(execFile);

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
after(() => home.cleanup());

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

// The Kubernetes launcher's check: the API server reached, and the identity's verbs asked of
// it with SelfSubjectAccessReviews, as the control plane's own service account would be.
describe('sluice check: the Kubernetes launcher\'s API server and verbs', () => {
  let kubeconfig: string | undefined;
  let kubectl: ((...args: string[]) => Promise<{ stdout: string }>) | undefined;
  const namespace = `sluice-check-${randomUUID().slice(0, 8)}`;

  before(async (t) => {
    kubeconfig = await service('kubernetes', t as never);
    if (!kubeconfig) return;
    const { stdout } = await run('bash', [join(root, 'scripts/kubernetes.sh'), 'env']);
    const bin = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string])).KUBECTL!;
    kubectl = (...args: string[]) => run(bin, ['--kubeconfig', kubeconfig!, ...args]);
    await kubectl('create', 'namespace', namespace);
    await kubectl('-n', namespace, 'create', 'serviceaccount', 'nobody');
    await kubectl('-n', namespace, 'create', 'serviceaccount', 'launcher');
    await kubectl('-n', namespace, 'create', 'role', 'launcher', '--verb=create,delete,get,list,watch', '--resource=jobs.batch,pods');
    await kubectl('-n', namespace, 'create', 'rolebinding', 'launcher', '--role=launcher', `--serviceaccount=${namespace}:launcher`);
  });
  after(async () => {
    if (kubectl) await kubectl('delete', 'namespace', namespace, '--wait=false').catch(() => undefined);
  });

  /** A kubeconfig that authenticates as the service account, with a token the API server issued. */
  const asAccount = async (account: string): Promise<string> => {
    const token = (await kubectl!('-n', namespace, 'create', 'token', account, '--duration=10m')).stdout.trim();
    const admin = readFileSync(kubeconfig!, 'utf8');
    const server = /server: "?([^"\s]+)"?/.exec(admin)?.[1];
    const ca = /certificate-authority: "?([^"\s]+)"?/.exec(admin)?.[1];
    const file = join(home.home, `${account}.kubeconfig`);
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server}", certificate-authority: "${ca}"}}]`,
      `users: [{name: u, user: {token: "${token}"}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}]', 'current-context: x', '',
    ].join('\n'));
    return file;
  };
  const withLauncher = (kc: string) => {
    const file = join(home.home, `launcher-${randomUUID().slice(0, 6)}.json`);
    writeFileSync(file, JSON.stringify({ launcher: { kind: 'kubernetes', namespace, kubeconfig: kc, image: 'sluice:test' } }));
    return { SLUICE_CONFIG: file };
  };

  it('passes for an account with the launcher\'s verbs, and names each verb another account lacks', async (t) => {
    if (!kubectl) return t.skip('no Kubernetes here');
    const ok = await check(withLauncher(await asAccount('launcher')), ['--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const launcher = ok.results.find((r) => r.check === 'launcher');
    assert.match(launcher?.detail ?? '', new RegExp(`^API server v1\\.34\\.4; may create and delete Jobs and watch pods in namespace ${namespace}$`));
    const denied = await check(withLauncher(await asAccount('nobody')), ['--json']);
    assert.equal(denied.code, 1);
    assert.equal(denied.results.find((r) => r.check === 'launcher')?.detail,
      `API server v1.34.4 reached, but this identity may not create jobs, delete jobs, watch pods, delete pods in namespace ${namespace}`);
  });
});

