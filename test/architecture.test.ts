import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEnvReads, findViolations } from '../scripts/check-imports.ts';

test('core, ports, sdk and runtime never import adapters', () => {
  assert.deepEqual(findViolations(), []);
});

test('the check catches a core file importing an adapter', () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-arch-'));
  mkdirSync(join(base, 'src/core'), { recursive: true });
  mkdirSync(join(base, 'src/adapters/chdb'), { recursive: true });
  writeFileSync(join(base, 'src/core/bad.ts'), "import { x } from '../adapters/chdb/warehouse.ts';\n");
  const v = findViolations(base);
  assert.equal(v.length, 1);
  assert.match(v[0], /src\/core\/bad\.ts: imports src\/adapters\/chdb\/warehouse\.ts/);
});

test('SLUICE_* variables are read in the config module only', () => {
  assert.deepEqual(findEnvReads(), []);
  const base = mkdtempSync(join(tmpdir(), 'sluice-arch-'));
  mkdirSync(join(base, 'src/cli'), { recursive: true });
  writeFileSync(join(base, 'src/cli/bad.ts'), "const t = process.env.SLUICE_TOKEN;\nconst u = env['SLUICE_URL'];\n");
  const v = findEnvReads(base);
  assert.deepEqual(v.map((l) => l.split(': reads ')[0]), ['src/cli/bad.ts:1', 'src/cli/bad.ts:2']);
});
