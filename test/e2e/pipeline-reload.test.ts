import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { THROWS_AT_IMPORT_PIPELINE, TYPO_PIPELINE } from '../helpers/pipeline-sources.ts';
import { tempHome } from '../helpers/runtime.ts';

// sluice dev watches its pipeline directories: a file added, changed or removed is loaded
// again without a restart, in the control plane and in its worker processes, while a run
// in flight keeps the code it started with. POST /pipelines/reload does the same on demand.
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
// Inside the checkout, where `import … from 'sluice'` resolves to this package.
const pipelines = join(root, 'tmp', `pipeline-reload-${process.pid}`);
let server: DevServer;

function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, '--pipelines', pipelines, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

interface Listing {
  items: { name: string; file: string; description: string }[];
  broken: { file: string; error: string; line: number | null }[];
}

const api = async <T>(path: string, init?: RequestInit): Promise<T> => (await fetch(`${server.url}/api/v1${path}`, init)).json() as Promise<T>;

/** Polls the listing until `ok` holds (the watcher debounces, then reloads everywhere). */
async function until(ok: (l: Listing) => boolean, what: string, limitMs = 10_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const l = await api<Listing>('/pipelines');
    if (ok(l)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) assert.fail(`${what}: not seen within ${limitMs} ms; listing ${JSON.stringify(l)}\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The steps' rows come from a helper file, so a change there must reach the attempts too. The
// second step is dispatched after the first ends: in a run that started before a change, it
// must still run the code the run started with.
const rowsHelper = (rows: number) => `export const ROWS: number = ${rows};\n`;
const pipelineFile = (name: string) => [
  `import { z } from 'zod';`,
  `import { definePipeline } from 'sluice';`,
  `import { ROWS } from './_lib/rows.ts';`,
  `const p = definePipeline({ name: '${name}', description: 'writes ' + ROWS + ' rows', params: z.object({ waitMs: z.coerce.number().default(0) }).strict() });`,
  `const out = p.asset({ name: '${name}.out' });`,
  `const write = p.step({ name: 'write', assets: [out], async run(ctx) {`,
  `  await new Promise((r) => setTimeout(r, ctx.params.waitMs));`,
  `  ctx.materialize(out, { rows: ROWS });`,
  `} });`,
  `const counted = p.asset({ name: '${name}.count' });`,
  `const count = p.step({ name: 'count', deps: [write], assets: [counted], run: (ctx) => ctx.materialize(counted, { rows: ROWS }) });`,
  `export default p.build({ steps: [write, count] });`,
  '',
].join('\n');

before(async () => {
  mkdirSync(join(pipelines, '_lib'), { recursive: true });
  copyFileSync(join(root, 'test/fixtures/pipelines/gate.ts'), join(pipelines, 'gate.ts'));
  writeFileSync(join(pipelines, '_lib', 'rows.ts'), rowsHelper(1));
  writeFileSync(join(pipelines, 'slow.ts'), pipelineFile('slow'));
  writeFileSync(join(pipelines, 'typo.ts'), TYPO_PIPELINE);
  writeFileSync(join(pipelines, 'broken.ts'), THROWS_AT_IMPORT_PIPELINE);
  server = await startServerProcess(['--home', dir.home, '--pipelines', pipelines, 'dev', '--port', '0']);
});
after(async () => {
  await server?.stop();
  dir.cleanup();
  rmSync(pipelines, { recursive: true, force: true });
});

const rowsOf = (summary: { steps: { name: string; rowsWritten: number }[] }) => summary.steps.map((x) => [x.name, x.rowsWritten]);
const mine = (l: Listing) => ({ ...l, broken: l.broken.filter((b) => b.file.startsWith(pipelines)) });

test('sluice dev starts beside broken files: the good pipelines run, the broken ones are listed with their file:line', async () => {
  assert.match(server.output(), /warning: \S+typo\.ts:4 did not load/);
  assert.match(server.output(), /warning: \S+broken\.ts:3 did not load/);
  const run = await sluice(['run', 'gate', '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).status, 'succeeded');
  const l = mine(await api<Listing>('/pipelines'));
  assert.equal(l.items.find((p) => p.name === 'gate')?.file, join(pipelines, 'gate.ts'));
  assert.ok(!l.items.some((p) => p.name === 'broken' || p.name === 'typo'));
  assert.deepEqual(l.broken.map((b) => [b.file, b.line]), [[join(pipelines, 'broken.ts'), 3], [join(pipelines, 'typo.ts'), 4]]);
  assert.match(l.broken[0]!.error, /^SyntaxError: .*JSON/);
  assert.match(l.broken[1]!.error, /depends on unknown step "lod"/);
  const cli = await sluice(['pipelines']);
  assert.equal(cli.code, 1, 'a broken file makes the listing exit 1, for scripts');
  assert.match(cli.stdout, /^gate\s/m);
  assert.match(cli.stdout, /Broken pipelines \(\d+\)[^\n]*\n(?: {2}[^\n]*\n {4}[^\n]*\n)*? {2}\S*typo\.ts:4:\d+\n {4}ValidationError: pipeline typo: step "report" depends on unknown step "lod"/);
});

test('a file added to the running sluice dev is runnable without a restart; removing it removes it', async () => {
  writeFileSync(join(pipelines, 'added.ts'), pipelineFile('added'));
  const ms = await until((l) => l.items.some((p) => p.name === 'added'), 'the added pipeline');
  process.stdout.write(`# added file listed ${ms} ms after the write\n`);
  const run = await sluice(['run', 'added', '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(rowsOf(JSON.parse(run.stdout)), [['write', 1], ['count', 1]]);
  assert.match(server.output(), /pipelines reloaded: added added/);

  rmSync(join(pipelines, 'added.ts'));
  await until((l) => !l.items.some((p) => p.name === 'added'), 'the removal');
  const gone = await sluice(['run', 'added']);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /pipeline not found: added/);
});

test('a changed helper changes what the next run does; a run in flight keeps the code it started with', async () => {
  const first = await sluice(['run', 'slow', '--json']);
  assert.deepEqual(rowsOf(JSON.parse(first.stdout)), [['write', 1], ['count', 1]]);
  // Started on version 1, still running while the helper changes under it.
  const inFlight = await api<{ id: string }>('/runs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'slow', params: { waitMs: 2_000 } }),
  });
  for (let i = 0; i < 200; i++) {
    const d = await api<{ steps: { status: string }[] }>(`/runs/${inFlight.id}`);
    if (d.steps[0]?.status === 'running') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  writeFileSync(join(pipelines, '_lib', 'rows.ts'), rowsHelper(7));
  await until((l) => l.items.find((p) => p.name === 'slow')?.description === 'writes 7 rows', 'the changed helper');
  const next = await sluice(['run', 'slow', '--json']);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(rowsOf(JSON.parse(next.stdout)), [['write', 7], ['count', 7]], 'the workers run the new code');
  let old: { run: { status: string }; steps: { step: string; rowsWritten: number }[] } | null = null;
  for (let i = 0; i < 200; i++) {
    old = await api(`/runs/${inFlight.id}`);
    if (old!.run.status !== 'running' && old!.run.status !== 'queued') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(old!.run.status, 'succeeded');
  // `count` was dispatched after the reload, to workers that had loaded the new code too.
  assert.deepEqual(old!.steps.map((x) => [x.step, x.rowsWritten]), [['write', 1], ['count', 1]], 'the run that started before the change kept its code');
});

test('POST /pipelines/reload: 403 with a view token; with an edit token it reloads and says what changed', async () => {
  const token = async (role: string) => JSON.parse((await sluice(['token', 'create', '--role', role, '--json'])).stdout).token as string;
  const reload = (t: string) => fetch(`${server.url}/api/v1/pipelines/reload`, { method: 'POST', headers: { authorization: `Bearer ${t}` } });
  const view = await reload(await token('view'));
  assert.equal(view.status, 403);
  // Fixed on disk: whichever comes first, the watcher or this call, the answer is consistent.
  writeFileSync(join(pipelines, 'typo.ts'), pipelineFile('typo'));
  rmSync(join(pipelines, 'broken.ts'));
  const edit = await reload(await token('edit'));
  assert.equal(edit.status, 200);
  const body = mine((await edit.json()) as Listing & { added: string[]; removed: string[]; changed: string[] }) as Listing & { added: string[]; removed: string[]; changed: string[] };
  assert.ok(body.items.some((p) => p.name === 'typo'));
  assert.deepEqual(body.broken, []);
  assert.deepEqual(body.removed, []);
  for (const k of ['added', 'changed'] as const) assert.ok(Array.isArray(body[k]));
  const run = await sluice(['run', 'typo', '--json']);
  assert.equal(run.code, 0, run.stderr);
});
