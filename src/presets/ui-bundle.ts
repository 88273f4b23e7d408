import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { boundMessage } from '../core/errors.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_TIMEOUT_MS = 180_000;
const KEEP_BUILDS = 3;

export type UiBundle = { readonly dir: string; readonly built: boolean } | { readonly dir: null; readonly reason: string };

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'dist' || name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

/** What the bundle is made from: every file of ui/ and the lock file (the libraries' versions). */
export function uiSourceHash(root = ROOT): string {
  const h = createHash('sha256');
  for (const f of files(join(root, 'ui'))) h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex').slice(0, 16);
}

/**
 * The web UI's built files, built with Vite on first use and cached by the hash of their
 * sources under node_modules/.cache, so a start after the first costs one hash of ui/ (a few
 * ms) and a changed UI is rebuilt (about 5 s). Never committed. No UI (no ui/ folder, no
 * Vite installed, a failed build) is a reason, not a failure: the API runs without it.
 */
export async function ensureUiBundle(options: { root?: string; cacheDir?: string } = {}): Promise<UiBundle> {
  const root = options.root ?? ROOT;
  if (!existsSync(join(root, 'ui', 'index.html'))) return { dir: null, reason: 'this install has no ui/ folder' };
  const cache = options.cacheDir ?? join(root, 'node_modules', '.cache', 'sluice-ui');
  const hash = uiSourceHash(root);
  const dir = join(cache, hash);
  // A build made elsewhere (the image's build stage) serves without Vite.
  if (existsSync(join(dir, 'index.html'))) return { dir, built: false };
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) return { dir: null, reason: 'Vite is not installed (npm install, without --omit=dev, builds the UI)' };
  mkdirSync(cache, { recursive: true });
  const tmp = join(cache, `${hash}.tmp-${process.pid}`);
  try {
    await run(process.execPath, [vite, 'build', '--config', join(root, 'ui', 'vite.config.ts'), '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: root, timeout: BUILD_TIMEOUT_MS, maxBuffer: 4 << 20,
    });
    // Another process may have finished the same build first: either copy is the same.
    if (!existsSync(dir)) renameSync(tmp, dir);
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return { dir: null, reason: `the UI build failed: ${boundMessage(e.stderr?.trim() || e.message || String(err))}` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneBuilds(cache, hash);
  return { dir, built: true };
}

/** Keeps the newest few builds: a checkout switched back and forth does not rebuild, and the cache stays small. */
function pruneBuilds(cache: string, keep: string): void {
  const builds = readdirSync(cache)
    .filter((n) => /^[0-9a-f]{16}$/.test(n) && n !== keep)
    .map((n) => ({ n, at: statSync(join(cache, n)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const b of builds.slice(KEEP_BUILDS - 1)) rmSync(join(cache, b.n), { recursive: true, force: true });
}
