import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

/** `assert.rejects(...)` calls with one argument: they pass on any error, the wrong one included. */
function bareRejects(text: string): number[] {
  const lines: number[] = [];
  for (const m of text.matchAll(/assert\.rejects\(/g)) {
    let depth = 1;
    let commas = 0;
    for (let j = m.index + m[0].length; depth > 0 && j < text.length; j++) {
      const c = text[j];
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === ',' && depth === 1) commas++;
      else if (`'"\``.includes(c)) {
        for (j++; j < text.length && text[j] !== c; j++) if (text[j] === '\\') j++;
      }
    }
    if (commas === 0) lines.push(text.slice(0, m.index).split('\n').length);
  }
  return lines;
}

test('every assert.rejects names the error it expects', () => {
  const bare: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && p !== import.meta.filename) for (const line of bareRejects(readFileSync(p, 'utf8'))) bare.push(`${p}:${line}`);
    }
  };
  walk(join(import.meta.dirname));
  assert.deepEqual(bare, []);
  assert.deepEqual(bareRejects("await assert.rejects(f());\nawait assert.rejects(g(), /x/);\nawait assert.rejects(h('a,b'));"), [1, 3]);
});
