import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './dev-server.ts';

/** A process of Debian's Prometheus or Alertmanager that this test started, on loopback. */
export interface Daemon {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

const MAX_OUTPUT = 64 << 10;

async function daemon(bin: string, args: (dir: string, port: number) => string[], ready: string, files: (dir: string, port: number) => Record<string, string>): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
  const port = await freePort();
  for (const [name, text] of Object.entries(files(dir, port))) writeFileSync(join(dir, name), text);
  const child: ChildProcess = spawn(bin, args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => { out = (out + String(d)).slice(-MAX_OUTPUT); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 30_000; ;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${url}${ready}`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${bin} was not ready on ${url} within 30 s:\n${out}`);
    }
    await sleep(200);
  }
  return { url, output: () => out, stop };
}

/** Alertmanager with the given configuration text; clustering off, so it opens no other port. */
export function startAlertmanager(config: string): Promise<Daemon> {
  return daemon('prometheus-alertmanager', (dir, port) => [`--config.file=${dir}/alertmanager.yaml`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    '/-/ready', () => ({ 'alertmanager.yaml': config }));
}

/** Prometheus with the given configuration (YAML; `{{DIR}}` is its data folder). */
export function startPrometheus(config: string): Promise<Daemon> {
  return daemon('prometheus', (dir, port) => [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`],
    '/-/ready', (dir) => ({ 'prometheus.yml': config.replaceAll('{{DIR}}', dir) }));
}

/** An instant query through Prometheus' HTTP API: the result's series. */
export async function instantQuery(prometheus: string, expr: string): Promise<{ metric: Record<string, string>; value: [number, string]; values?: [number, string][] }[]> {
  const r = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.resultType === 'vector' || body.data!.resultType === 'matrix' ? body.data!.result : [];
}
