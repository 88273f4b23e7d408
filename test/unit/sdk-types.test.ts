import type { DataTopics } from '../../src/ports/data-topics.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { AttemptEvent } from '../../src/core/events.ts';
import type { ObjectStore } from '../../src/ports/object-store.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { executeAttempt } from '../../src/runtime/attempt-executor.ts';
import { loadPipelines, type PipelineRegistry } from '../../src/runtime/pipeline-registry.ts';
import { definePipeline } from '../../src/sdk/define-pipeline.ts';
import { requirePartition } from '../../src/sdk/require-partition.ts';
import { TYPO_PIPELINE } from '../helpers/pipeline-sources.ts';
import { recordingBus } from '../helpers/recording-bus.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside the repository (git-ignored `tmp/`), so `import 'sluice'` resolves to this package.
let dir: string;

before(() => {
  mkdirSync(join(root, 'tmp'), { recursive: true });
  dir = mkdtempSync(join(root, 'tmp', 'sdk-types-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The README's pipeline example, verbatim. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Writing a pipeline'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'no ts block under "Writing a pipeline"');
  return m[1];
}

const MISSPELLED = `import { definePipeline } from 'sluice';

const p = definePipeline({ name: 'misspelled' });
const raw = p.asset({ name: 'raw.orders' });
const other = p.asset({ name: 'raw.other' });
const load = p.step({
  name: 'load',
  assets: [raw],
  run(ctx) {
    ctx.materialize('raw.ordrs', { rows: 1 });
    ctx.materialize(other, { rows: 1 });
  },
});
const report = p.step({ name: 'report', deps: [lod], run: () => undefined });
export default p.build({ steps: [load, report] });
`;

test('tsc: the README example compiles with no generics; a misspelled dep or asset does not', { timeout: 120_000 }, async () => {
  writeFileSync(join(dir, 'readme-example.ts'), readmeExample());
  writeFileSync(join(dir, 'misspelled.ts'), MISSPELLED);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }));
  assert.doesNotMatch(readmeExample(), /\b(step|check|asset|pipeline|StepContext)</, 'the README example spells a generic');
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const out = await promisify(execFile)(tsc, ['--noEmit', '-p', dir], { cwd: dir }).then(
    (r) => r.stdout,
    (err: { stdout: string }) => err.stdout,
  );
  // The first line of each error; the elaboration below it is tsc's wording, not ours.
  const errors = out.split('\n').filter((l) => / error TS\d+: /.test(l));
  assert.deepEqual(errors, [
    `misspelled.ts(10,21): error TS2345: Argument of type '"raw.ordrs"' is not assignable to parameter of type '"raw.orders" | AssetRef<"raw.orders">'.`,
    `misspelled.ts(11,21): error TS2345: Argument of type 'AssetDef<{ [x: string]: never; }, null, "raw.other">' is not assignable to parameter of type '"raw.orders" | AssetRef<"raw.orders">'.`,
    `misspelled.ts(14,48): error TS2552: Cannot find name 'lod'. Did you mean 'load'?`,
  ]);
});

test('shipped pipelines spell no generic: the types come from definePipeline', () => {
  const pipelines = join(root, 'pipelines');
  for (const name of readdirSync(pipelines, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(pipelines, name), 'utf8');
    assert.doesNotMatch(text, /\b(step|check|asset|pipeline|StepContext)</, `pipelines/${name}`);
  }
});

test('a dep by name that is not a step breaks its file with the file:line of the step; the other files load', async () => {
  const pipelines = join(dir, 'bad-dep');
  mkdirSync(pipelines);
  const file = join(pipelines, 'typo.ts');
  writeFileSync(file, TYPO_PIPELINE);
  const good = (name: string) => [
    `import { definePipeline } from 'sluice';`,
    `const p = definePipeline({ name: '${name}' });`,
    `export default p.build({ steps: [p.step({ name: 'only', run: () => undefined })] });`,
    '',
  ].join('\n');
  writeFileSync(join(pipelines, 'good.ts'), good('good'));
  writeFileSync(join(pipelines, 'same-name.ts'), good('good'));
  writeFileSync(join(pipelines, 'syntax.ts'), `import { definePipeline } from 'sluice';\nconst p = definePipeline({ name: 'syntax' };\n`);
  writeFileSync(join(pipelines, 'throws.ts'), `const n: number = 1;\n\nthrow new TypeError('no config ' + n);\n`);
  const registry = await loadPipelines([pipelines]);
  assert.deepEqual(registry.list().map((p) => p.name), ['good']);
  const broken = Object.fromEntries(registry.broken().map((b) => [b.file.slice(pipelines.length + 1), b]));
  assert.deepEqual(Object.keys(broken).sort(), ['same-name.ts', 'syntax.ts', 'throws.ts', 'typo.ts']);
  assert.deepEqual({ ...broken['typo.ts'] }, {
    file, line: 4, column: 18,
    error: `ValidationError: pipeline typo: step "report" depends on unknown step "lod" (at ${file}:4:18); its steps are load, report`,
  });
  assert.deepEqual([broken['throws.ts']!.line, broken['throws.ts']!.error], [3, 'TypeError: no config 1']);
  assert.equal(broken['syntax.ts']!.line, 2);
  assert.match(broken['syntax.ts']!.error, /^SyntaxError: /);
  assert.match(broken['same-name.ts']!.error, /pipeline "good" is defined twice: .*good\.ts and .*same-name\.ts/);
});

/** One attempt of `step` on a bus that only records what is published. */
async function attempt(registry: Pick<PipelineRegistry, 'get'>, pipeline: string, step: string, partition: string | null = null): Promise<AttemptEvent[]> {
  const { bus, published } = recordingBus();
  await executeAttempt(
    { runId: 'r1', attemptId: 'a1', attempt: 1, pipeline, step, params: {}, partition, timeoutMs: null },
    { registry: registry as PipelineRegistry, warehouse: {} as Warehouse, objects: {} as ObjectStore, bus, topics: {} as DataTopics, heartbeatMs: 60_000 },
    new AbortController().signal,
  );
  return published;
}

test('ctx.materialize() of an asset the step does not declare fails the attempt and records nothing', async () => {
  const p = definePipeline({ name: 'undeclared' });
  const mine = p.asset({ name: 'u.mine' });
  const theirs = p.asset({ name: 'u.theirs' });
  const write = p.step({
    name: 'write',
    assets: [mine],
    run(ctx) {
      // What a string from elsewhere can do at run time, past the types.
      (ctx.materialize as (a: unknown, i: { rows: number }) => void)(theirs, { rows: 5 });
    },
  });
  const def = p.build({ steps: [write] });
  const events = await attempt({ get: () => def as never }, 'undeclared', 'write');
  const failed = events.find((e) => e.type === 'attempt.failed');
  assert.ok(failed?.type === 'attempt.failed');
  assert.match(failed.error.message, /step write materialized asset "u\.theirs", which it does not declare \(its assets: u\.mine\)/);
  assert.equal(failed.error.retryable, false);
  assert.deepEqual(events.filter((e) => e.type === 'asset.materialized'), []);
});

test('requirePartition: the window of a partitioned run; a run without a key fails without retry', async () => {
  const p = definePipeline({ name: 'days', partitions: { granularity: 'daily', start: '2024-01-01' } });
  let seen = '';
  const s = p.step({ name: 'day', run: (ctx) => void (seen = requirePartition(ctx).key) });
  const def = p.build({ steps: [s] });
  const ok = await attempt({ get: () => def as never }, 'days', 'day', '2024-01-02');
  assert.ok(ok.some((e) => e.type === 'attempt.succeeded'));
  assert.equal(seen, '2024-01-02');
  const none = await attempt({ get: () => def as never }, 'days', 'day', null);
  const failed = none.find((e) => e.type === 'attempt.failed');
  assert.ok(failed?.type === 'attempt.failed');
  assert.match(failed.error.message, /step day of pipeline days needs a partition; run it with a partition key/);
  assert.equal(failed.error.retryable, false);
});
