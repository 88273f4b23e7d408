import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findViolations } from '../scripts/check-imports.ts';

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
