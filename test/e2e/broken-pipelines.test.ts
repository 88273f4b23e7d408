import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type DevServer } from '../helpers/dev-server.ts';
import { tempHome } from '../helpers/runtime.ts';

// One broken pipeline file never stops the others, as Airflow lists a "Broken DAG": sluice
// dev starts, the good pipeline runs, the broken file is listed with its error and line.
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
// Inside the checkout, where `import … from 'sluice'` resolves to this package.
const pipelines = join(root, 'tmp', `broken-pipelines-${process.pid}`);
let server: DevServer;

function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, '--pipelines', pipelines, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

before(async () => {
  mkdirSync(pipelines, { recursive: true });
  writeFileSync(join(pipelines, 'hello.ts'), [
    `import { definePipeline } from 'sluice';`,
    `const p = definePipeline({ name: 'hello', description: 'says hello' });`,
    `export default p.build({ steps: [p.step({ name: 'greet', run: (ctx) => ctx.log.info('hello') })] });`,
    '',
  ].join('\n'));
  writeFileSync(join(pipelines, 'broken.ts'), [
    `import { definePipeline } from 'sluice';`,
    `const p = definePipeline({ name: 'broken' });`,
    `const rows: string[] = JSON.parse('[1, 2');`,
    `export default p.build({ steps: [p.step({ name: 'x', run: () => rows })] });`,
    '',
  ].join('\n'));
  server = await startServerProcess(['--home', dir.home, '--pipelines', pipelines, 'dev', '--port', '0']);
});
after(async () => {
  await server?.stop();
  dir.cleanup();
  rmSync(pipelines, { recursive: true, force: true });
});

test('sluice dev starts beside a broken file; the good pipeline runs; the broken one is listed with its error and line', async () => {
  const run = await sluice(['run', 'hello', '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).status, 'succeeded');

  const res = await fetch(`${server.url}/api/v1/pipelines`);
  const body = (await res.json()) as { items: { name: string; file: string }[]; broken: { file: string; error: string; line: number | null }[] };
  assert.ok(body.items.some((p) => p.name === 'hello' && p.file === join(pipelines, 'hello.ts')));
  assert.ok(!body.items.some((p) => p.name === 'broken'));
  assert.deepEqual(body.broken.map((b) => [b.file, b.line]), [[join(pipelines, 'broken.ts'), 3]]);
  assert.match(body.broken[0]!.error, /^SyntaxError: .*JSON/);

  const cli = await sluice(['pipelines']);
  assert.equal(cli.code, 1, 'a broken file makes the listing exit 1, for scripts');
  assert.match(cli.stdout, /^hello\s/m);
  assert.match(cli.stdout, /Broken pipelines \(1\): these files did not load; the others run\.\n {2}\S*broken\.ts:3:\d+\n {4}SyntaxError: /);
  assert.match(server.output(), /broken\.ts:3/);
});
