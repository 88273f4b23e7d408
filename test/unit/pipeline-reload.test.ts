import type { DataTopics } from '../../src/ports/data-topics.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../../src/core/errors.ts';
import type { AttemptEvent } from '../../src/core/events.ts';
import type { ObjectStore } from '../../src/ports/object-store.ts';
import type { Warehouse } from '../../src/ports/warehouse.ts';
import { executeAttempt } from '../../src/runtime/attempt-executor.ts';
import { loadPipelines } from '../../src/runtime/pipeline-registry.ts';
import { recordingBus } from '../helpers/recording-bus.ts';

// Reloading a registry in place: fresh code (the file and its relative imports), broken
// files listed with their line even under a `?v=N` URL, and earlier versions kept for the
// runs that started with them.
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

before(() => {
  mkdirSync(join(root, 'tmp'), { recursive: true });
  // Inside the checkout, so `import 'sluice'` resolves to this package.
  dir = mkdtempSync(join(root, 'tmp', 'pipeline-reload-'));
  mkdirSync(join(dir, '_lib'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const helper = (label: string) => `export const label: string = '${label}';\n`;
const pipelineFile = (name: string) => [
  `import { definePipeline } from 'sluice';`,
  `import { label } from './_lib/label.ts';`,
  `const p = definePipeline({ name: '${name}', description: label });`,
  `export default p.build({ steps: [p.step({ name: 'only', run: () => undefined })] });`,
  '',
].join('\n');

test('reload swaps in new, changed and removed files, keeps what did not change, and keeps old versions by version', async () => {
  writeFileSync(join(dir, '_lib', 'label.ts'), helper('one'));
  writeFileSync(join(dir, 'hello.ts'), pipelineFile('hello'));
  writeFileSync(join(dir, 'other.ts'), pipelineFile('other').replace(`import { label } from './_lib/label.ts';`, `const label = 'fixed';`));
  writeFileSync(join(dir, 'broken.ts'), `import { definePipeline } from 'sluice';\nconst p = definePipeline({ name: 'broken' };\n`);
  const registry = await loadPipelines([dir]);
  assert.deepEqual(registry.list().map((p) => p.name), ['hello', 'other']);
  assert.deepEqual(registry.broken().map((b) => [b.file, b.line]), [[join(dir, 'broken.ts'), 2]]);
  const first = registry.get('hello');
  const other = registry.get('other');
  const v1 = registry.versionOf(first);
  assert.match(v1 ?? '', /^[0-9a-f]{12}$/);
  assert.equal(first.description, 'one');

  // The helper changes: the pipeline that imports it is another version; the other one is untouched.
  writeFileSync(join(dir, '_lib', 'label.ts'), helper('two'));
  writeFileSync(join(dir, 'broken.ts'), pipelineFile('fixed'));
  writeFileSync(join(dir, 'added.ts'), pipelineFile('added'));
  const changes = await registry.reload();
  assert.deepEqual(changes, { added: ['added', 'fixed'], removed: [], changed: ['hello'] });
  assert.equal(registry.get('hello').description, 'two', 'the relative import is fresh too');
  assert.equal(registry.get('added').description, 'two');
  assert.equal(registry.get('other'), other, 'an unchanged file is not imported again');
  assert.deepEqual(registry.broken(), []);
  const v2 = registry.versionOf(registry.get('hello'));
  assert.notEqual(v2, v1);
  assert.equal(await registry.resolve('hello', v1!), first, 'a run that started before still gets its code');
  assert.equal((await registry.resolve('hello', v2!)).description, 'two');

  // A file broken after a reload is imported as `…?v=N`: its line is still found.
  writeFileSync(join(dir, 'added.ts'), `const n: number = 1;\n\nthrow new TypeError('no config ' + n);\n`);
  rmSync(join(dir, 'hello.ts'));
  assert.deepEqual(await registry.reload(), { added: [], removed: ['added', 'hello'], changed: [] });
  assert.deepEqual(registry.broken().map((b) => [b.file, b.line, b.column, b.error]), [[join(dir, 'added.ts'), 3, 7, 'TypeError: no config 1']]);
  assert.throws(() => registry.get('hello'), { name: 'NotFoundError' });
  assert.equal((await registry.resolve('hello', v2!)).description, 'two', 'removed, but kept by version');

  // Back to content seen before: the same version as then (a hash of the code, not a counter).
  writeFileSync(join(dir, 'hello.ts'), pipelineFile('hello'));
  writeFileSync(join(dir, '_lib', 'label.ts'), helper('one'));
  await registry.reload();
  assert.equal(registry.versionOf(registry.get('hello')), v1);

  await assert.rejects(registry.resolve('hello', 'feedfacecafe'), (err: unknown) => {
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'not_found');
    assert.equal(err.retryable, false);
    assert.match(err.message, /^pipeline hello version feedfacecafe, which this run started with, is not loaded here and its code on disk is version [0-9a-f]{12}; start a new run/);
    return true;
  });
});

test('a reload of a directory that went away fails and changes nothing', async () => {
  const gone = mkdtempSync(join(root, 'tmp', 'pipeline-reload-gone-'));
  writeFileSync(join(gone, 'hello.ts'), pipelineFile('hello').replace(`import { label } from './_lib/label.ts';`, `const label = 'x';`));
  const registry = await loadPipelines([gone]);
  rmSync(gone, { recursive: true, force: true });
  await assert.rejects(registry.reload(), { name: 'ValidationError', message: /pipelines directory not found/ });
  assert.deepEqual(registry.list().map((p) => p.name), ['hello']);
});

test('an attempt asking for a version the process does not have fails, not retried, and says why', async () => {
  const own = mkdtempSync(join(root, 'tmp', 'pipeline-reload-attempt-'));
  try {
    writeFileSync(join(own, 'hello.ts'), pipelineFile('hello').replace(`import { label } from './_lib/label.ts';`, `const label = 'x';`));
    const registry = await loadPipelines([own]);
    const { bus, published } = recordingBus();
    const attempt = (version: string | null) => executeAttempt(
      { runId: 'r1', attemptId: `a-${version}`, attempt: 1, pipeline: 'hello', step: 'only', params: {}, partition: null, timeoutMs: null, version },
      { registry, warehouse: {} as Warehouse, objects: {} as ObjectStore, bus, topics: {} as DataTopics, heartbeatMs: 60_000 },
      new AbortController().signal,
    );
    await attempt(registry.versionOf(registry.get('hello')));
    await attempt('0123456789ab');
    const ends = published.filter((e) => e.type === 'attempt.succeeded' || e.type === 'attempt.failed');
    assert.deepEqual(ends.map((e) => e.type), ['attempt.succeeded', 'attempt.failed']);
    const failed = ends[1] as Extract<AttemptEvent, { type: 'attempt.failed' }>;
    assert.equal(failed.error.code, 'not_found');
    assert.equal(failed.error.retryable, false);
    assert.match(failed.error.message, /^pipeline hello version 0123456789ab, which this run started with, is not loaded here/);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
