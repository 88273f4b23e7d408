// The core and the runtime talk to ports only: a mechanical check that neither imports
// an adapter (DESIGN.md §3). Run by `npm run lint` and by test/architecture.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Layers and what they must never import. */
export const RULES: ReadonlyArray<{ from: string; forbidden: readonly string[] }> = [
  { from: 'src/core', forbidden: ['src/adapters', 'src/runtime', 'src/presets', 'src/cli', 'src/server', 'src/sdk'] },
  { from: 'src/ports', forbidden: ['src/adapters', 'src/runtime', 'src/presets', 'src/cli', 'src/server'] },
  { from: 'src/sdk', forbidden: ['src/adapters', 'src/presets', 'src/cli', 'src/server'] },
  { from: 'src/runtime', forbidden: ['src/adapters', 'src/presets', 'src/cli', 'src/server'] },
  { from: 'src/adapters', forbidden: ['src/runtime', 'src/presets', 'src/cli', 'src/server'] },
  { from: 'src/observability', forbidden: ['src/adapters', 'src/runtime', 'src/presets', 'src/cli', 'src/server'] },
  // The UI knows the API by its generated types only, never the server's code.
  { from: 'ui/src', forbidden: ['src', 'test', 'scripts'] },
];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') || p.endsWith('.tsx')) yield p;
  }
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Returns one line per forbidden import: `file: imports target`. */
export function findViolations(base = root): string[] {
  const out: string[] = [];
  for (const rule of RULES) {
    const dir = join(base, rule.from);
    let list: string[];
    try {
      list = [...files(dir)];
    } catch {
      continue;
    }
    for (const file of list) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        if (!spec.startsWith('.')) continue;
        const target = relative(base, resolve(dirname(file), spec));
        const bad = rule.forbidden.find((f) => target === f || target.startsWith(`${f}/`));
        if (bad) out.push(`${relative(base, file)}: imports ${target} (${rule.from} must not import ${bad})`);
      }
    }
  }
  return out;
}

/** The one module that reads configuration from the environment (DESIGN.md: config is validated once). */
export const CONFIG_MODULE = 'src/presets/config.ts';
const ENV_READ = /\b(?:env\.SLUICE_[A-Z0-9_]*|env\[\s*['"`]SLUICE_)/g;

/** One line per `SLUICE_*` variable read outside the config module: `file:line: env.SLUICE_X`. */
export function findEnvReads(base = root): string[] {
  const out: string[] = [];
  for (const file of files(join(base, 'src'))) {
    const rel = relative(base, file);
    if (rel === CONFIG_MODULE) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(ENV_READ)) out.push(`${rel}:${i + 1}: reads ${m[0]} (only ${CONFIG_MODULE} reads SLUICE_* variables)`);
    });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const v = [...findViolations(), ...findEnvReads()];
  if (v.length > 0) {
    console.error(`import rule violations:\n${v.join('\n')}`);
    process.exit(1);
  }
  console.log('import rules: ok');
}
