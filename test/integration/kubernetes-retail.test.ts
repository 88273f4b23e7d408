import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../../src/adapters/kubernetes/attempt-job.ts';
import { loadConfig } from '../../src/presets/config.ts';
import { openControlPlane, type ControlPlane } from '../../src/presets/runtime.ts';
import { dropBucket, dropSchema } from '../helpers/cleanup.ts';
import { kubernetesStack, type KubernetesStack } from '../helpers/kubernetes.ts';
import { assertRetailTotals, numbers, RETAIL_COUNTS_SQL } from '../helpers/retail-totals.ts';
import { MINIO_CREDENTIALS as MINIO, service } from '../helpers/services.ts';

const SAMPLE = fileURLToPath(new URL('../../data/online-retail/', import.meta.url));

/** The 20 sample days as one CSV file, as a shop's export would serve it: one header. */
function oneFile(): Buffer {
  const days = readdirSync(SAMPLE).filter((f) => f.endsWith('.csv')).sort();
  const parts = days.map((f, i) => {
    const text = readFileSync(join(SAMPLE, f), 'utf8');
    return i === 0 ? text : text.slice(text.indexOf('\n') + 1);
  });
  return Buffer.from(parts.join(''));
}

// The cluster preset end to end: run state in PostgreSQL, the bus on Kafka, the warehouse on
// the ClickHouse server, objects in MinIO, every attempt a Job on the real API server run by
// the pod runner. The source is an http URL (pods share no disk with the control plane), so
// the raw step caches it in MinIO; the pods get the S3 keys from a Secret, never in the Job.
describe('retail on Kubernetes with PostgreSQL, Kafka, the ClickHouse server and MinIO', () => {
  let stack: KubernetesStack | undefined;
  let cp: ControlPlane | undefined;
  let http: Server | undefined;
  let s3: S3Client | undefined;
  let pgUrl: string | undefined;
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const bucket = `sluice-k8s-${id}`;
  const schema = `k8s_${id}`;
  let source = '';
  let served = 0;

  before(async (t) => {
    stack = await kubernetesStack(t as never);
    pgUrl = await service('postgres', t as never);
    const minio = await service('minio', t as never);
    if (!stack || !pgUrl || !minio) return;
    const body = oneFile();
    http = createServer((req, res) => {
      if (req.url !== '/exports/online-retail.csv') return void res.writeHead(404).end();
      served++;
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/exports/`;
    source = `${base}online-retail.csv`;
    s3 = new S3Client({ endpoint: minio, region: 'us-east-1', forcePathStyle: true, credentials: MINIO });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await stack.core.createNamespacedSecret({
      namespace: stack.namespace,
      body: { metadata: { name: 's3-credentials' }, stringData: { accessKey: MINIO.accessKeyId, secretKey: MINIO.secretAccessKey } },
    });
    const file = join(stack.home, 'sluice.json');
    writeFileSync(file, JSON.stringify({
      launcher: {
        kind: 'kubernetes', namespace: stack.namespace, kubeconfig: stack.kubeconfig, image: 'sluice:test', defaults: { nodePool: 'default' },
        env: { SLUICE_HOME: stack.home },
        secretEnv: [
          { name: 'AWS_ACCESS_KEY_ID', secret: 's3-credentials', key: 'accessKey' },
          { name: 'AWS_SECRET_ACCESS_KEY', secret: 's3-credentials', key: 'secretKey' },
        ],
      },
      // The export is on loopback, so this one prefix is let past the private-network guard.
      sources: { urlPrefixes: [base], allowPrivateNetworks: true },
    }));
    const config = loadConfig({
      env: {
        SLUICE_CONFIG: file, SLUICE_METADATA_URL: pgUrl, SLUICE_METADATA_SCHEMA: schema,
        SLUICE_KAFKA_BROKERS: stack.brokers, SLUICE_KAFKA_TOPIC_PREFIX: stack.topicPrefix, SLUICE_WAREHOUSE_URL: stack.warehouseUrl,
        SLUICE_S3_BUCKET: bucket, SLUICE_S3_ENDPOINT: minio, SLUICE_S3_PREFIX: 'lake/', SLUICE_S3_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: MINIO.accessKeyId, AWS_SECRET_ACCESS_KEY: MINIO.secretAccessKey, SLUICE_HEARTBEAT_MS: '500',
      },
      cwd: process.cwd(), home: join(stack.home, 'control-plane'), logLevel: 'silent',
    });
    assert.equal(config.metadata.kind, 'postgres');
    assert.equal(config.objects.kind, 's3');
    cp = await openControlPlane(config);
  });
  after(async () => {
    await cp?.close();
    await stack?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    if (s3) {
      await dropBucket(s3, bucket).catch(() => undefined);
      s3.destroy();
    }
    if (pgUrl) await dropSchema(pgUrl, schema);
  });

  it('every step a Job, run by the pod runner: the run succeeds with exactly the reference totals, the source cached in MinIO', async (t) => {
    if (!stack || !cp) return t.skip('no Kubernetes, PostgreSQL or MinIO here');
    const before = stack.runner.started;
    const { run, done } = await cp.coordinator.submit({ pipeline: 'retail', allPartitions: true, params: { source } });
    const detail = await done;
    assert.equal(detail.run.status, 'succeeded', JSON.stringify(detail.attempts.map((a) => ({ step: a.step, failure: a.failure }))));
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const jobs = (await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: stack.namespace, labelSelector: `${LABELS.runId}=${run.id}` })).items;
    assert.deepEqual(jobs.map((j) => j.metadata?.labels?.[LABELS.step]).sort(), detail.attempts.map((a) => a.step).sort(), 'one Job per attempt');
    assert.ok(detail.attempts.length >= 6, 'six steps');
    assert.equal(stack.runner.started - before, detail.attempts.length, 'the pod runner ran each pod');
    const env = jobs[0]?.spec?.template.spec?.containers[0]?.env ?? [];
    assert.ok(env.every((e) => e.value !== MINIO.secretAccessKey), 'no S3 secret in the Job');
    assert.equal(env.find((e) => e.name === 'AWS_SECRET_ACCESS_KEY')?.valueFrom?.secretKeyRef?.name, 's3-credentials');
    const [row] = await cp.services.warehouse.query<Record<string, unknown>>(RETAIL_COUNTS_SQL);
    assertRetailTotals(numbers(row));
    assert.equal(served, 1, 'the export was fetched once, by the raw step\'s pod');
    const cached = await s3!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'lake/raw_data/retail/' }));
    const sizes = (cached.Contents ?? []).map((o) => o.Size ?? 0);
    assert.equal(sizes.length, 2, `the cached copy and its entry: ${JSON.stringify(cached.Contents?.map((o) => o.Key))}`);
    assert.ok(sizes.includes(oneFile().length), 'the whole export is in MinIO');
  });
});
