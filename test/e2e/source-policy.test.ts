import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ControlPlaneClient, type RunView } from '../helpers/control-plane-client.ts';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { tempHome } from '../helpers/runtime.ts';

// A real `sluice server` (tokens, forked workers) is asked for sources an API caller must not
// get: a system file, a path out of the shipped data, and a URL on this machine.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
const passwd = readFileSync('/etc/passwd', 'utf8');
let server: DevServer | undefined;
let api: ControlPlaneClient;
let web: Server;
let webUrl = '';
let webHits = 0;

before(async () => {
  web = createServer((_req, res) => {
    webHits += 1;
    res.end('InvoiceNo\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const env = { SLUICE_WORKERS: '1', SLUICE_SOURCE_URL_PREFIXES: `${webUrl}/allowed/` };
  const { stdout } = await run(process.execPath, ['src/cli/main.ts', '--home', dir.home, 'token', 'create', '--role', 'edit', '--name', 'e2e'], {
    cwd: root, env: { PATH: process.env.PATH, ...env },
  });
  server = await startServerProcess(['--home', dir.home, 'server', '--host', '127.0.0.1', '--port', '0'], env);
  api = new ControlPlaneClient(server.url, stdout.trim());
});
after(async () => {
  await server?.stop();
  await new Promise<void>((r) => web?.close(() => r()));
  dir.cleanup();
});

async function failedRun(params: Record<string, unknown>): Promise<RunView> {
  const { id } = await api.startRun('retail', params);
  const d = await api.waitRun(id, 60_000);
  assert.equal(d.run.status, 'failed', JSON.stringify(d.run));
  // Refusals are final: one attempt, not three.
  assert.equal(d.attempts.filter((a) => a.step === 'raw').length, 1);
  return d;
}

test('source=/etc/passwd (or a .. path out of the data directory) is refused by the source-roots rule, its content never shown', async () => {
  const firstLine = passwd.split('\n')[0];
  for (const source of ['/etc/passwd', join(root, 'data', 'online-retail', '..', '..', '..', '..', '..', '..', '..', 'etc', 'passwd')]) {
    const d = await failedRun({ source });
    assert.match(d.run.error ?? '', /outside the source roots: this server reads local files only under sources\.roots \(.*data.*inbox\)/);
    const everything = JSON.stringify(d) + server!.output();
    assert.ok(!everything.includes(firstLine), 'the first line of /etc/passwd leaked');
    assert.ok(!everything.includes('root:x:0:0'));
  }
});

test('a URL under no prefix, or under one but on a loopback address, is refused before any request is made', async () => {
  const notListed = await failedRun({ source: `${webUrl}/elsewhere/a.csv` });
  assert.match(notListed.run.error ?? '', /not under an allowed URL prefix: .*sources\.urlPrefixes/);
  const loopback = await failedRun({ source: `${webUrl}/allowed/a.csv` });
  assert.match(loopback.run.error ?? '', /resolves to 127\.0\.0\.1, a loopback address: .*sources\.allowPrivateNetworks/);
  assert.equal(webHits, 0);
});

test('a file in the inbox under the state directory loads, and its materialization records size and SHA-256', async () => {
  const sample = readFileSync(join(root, 'data', 'online-retail', '2010-12-01.csv'), 'utf8').split('\n').slice(0, 4).join('\n') + '\n';
  mkdirSync(join(dir.home, 'inbox'), { recursive: true });
  const file = join(dir.home, 'inbox', 'three-lines.csv');
  writeFileSync(file, sample);
  const { id } = await api.startRun('retail', { source: file }, '2010-12-01');
  const d = await api.waitRun(id, 120_000);
  assert.equal(d.run.status, 'succeeded', JSON.stringify(d.run));
  const { items } = await api.call<{ items: { runId: string; rows: number; metadata: { inputs: unknown[] } }[] }>('GET', '/api/v1/assets/raw.online_retail/materializations');
  const m = items.find((x) => x.runId === id)!;
  assert.equal(m.rows, 3);
  assert.deepEqual(m.metadata.inputs, [{ name: file, bytes: Buffer.byteLength(sample), sha256: createHash('sha256').update(sample).digest('hex') }]);
});
