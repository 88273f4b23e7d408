import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgliteMetadataStore } from '../../src/adapters/pglite/pglite-metadata-store.ts';
import { UnauthorizedError } from '../../src/core/errors.ts';
import { authenticate, type AuthenticatedToken } from '../../src/server/auth/roles.ts';
import { hashToken, TOKEN_PATTERN } from '../../src/server/auth/tokens.ts';
import { tempHome } from '../helpers/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempHome();
after(() => dir.cleanup());

/** Runs the real CLI in its own process, as a user would. */
function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', '--home', dir.home, ...args], { cwd: root, env: { PATH: process.env.PATH }, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Authenticates against the CLI's own store, opened after the CLI process has exited. */
async function authAgainstHome(token: string): Promise<AuthenticatedToken> {
  const store = await createPgliteMetadataStore({ dataDir: join(dir.home, 'metadata') });
  try {
    return await authenticate(`Bearer ${token}`, store.tokens);
  } finally {
    await store.close();
  }
}

let token = '';
let tokenId = '';

test('token create prints the secret once, alone on stdout, with a note that it cannot be shown again', async () => {
  const r = await sluice(['token', 'create', '--role', 'edit', '--name', 'ci']);
  assert.equal(r.code, 0, r.stderr);
  token = r.stdout.trim();
  assert.match(token, TOKEN_PATTERN);
  assert.match(r.stderr, /created token (tok_[0-9a-f]{16}) "ci" with role edit/);
  tokenId = /created token (tok_[0-9a-f]{16})/.exec(r.stderr)![1]!;
  assert.match(r.stderr, /cannot be shown again/);
});

test('the printed token authenticates against the store in another process', async () => {
  assert.deepEqual(await authAgainstHome(token), { tokenId, name: 'ci', role: 'edit' });
});

test('token create --json includes the secret; a duplicate name and an unknown role are refused', async () => {
  const j = await sluice(['token', 'create', '--role', 'view', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const created = JSON.parse(j.stdout);
  assert.match(created.token, TOKEN_PATTERN);
  assert.equal(created.role, 'view');
  assert.match(created.name, /^view-[0-9a-f]{8}$/);
  assert.match(j.stderr, /cannot be shown again/);
  assert.equal((await authAgainstHome(created.token)).role, 'view');

  const dup = await sluice(['token', 'create', '--role', 'admin', '--name', 'ci']);
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /an active token named "ci" already exists/);
  assert.equal(dup.stdout, '', 'no secret printed for a refused token');

  const bad = await sluice(['token', 'create', '--role', 'root']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown role "root"; --role must be one of view, edit, admin/);
  assert.doesNotMatch(bad.stderr, /\bat .*\.ts:\d+/);
});

test('token list shows the tokens and their last use, never a secret or a hash', async () => {
  const r = await sluice(['token', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as Record<string, unknown>[];
  const ci = listed.find((t) => t.id === tokenId);
  assert.equal(ci?.name, 'ci');
  assert.equal(ci?.role, 'edit');
  assert.equal(ci?.revokedAt, null);
  assert.ok(typeof ci?.lastUsedAt === 'string', 'authenticating recorded the use');
  assert.ok(!r.stdout.includes(token) && !r.stdout.includes(hashToken(token)));
  assert.ok(listed.every((t) => !('token' in t) && !('hash' in t)));

  const table = await sluice(['token', 'list']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${tokenId}\\s+ci\\s+edit\\s`, 'm'));
  assert.ok(!table.stdout.includes('slc_') && !table.stdout.includes(hashToken(token)));
});

test('token revoke makes the token fail, and a second revoke says it is not found', async () => {
  const r = await sluice(['token', 'revoke', 'ci']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /revoked ci/);
  await assert.rejects(authAgainstHome(token), (err: unknown) => err instanceof UnauthorizedError && err.reason === 'invalid');

  const again = await sluice(['token', 'revoke', tokenId]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, new RegExp(`active token not found: ${tokenId}`));

  const listed = JSON.parse((await sluice(['token', 'list', '--json'])).stdout) as { id: string; revokedAt: string | null }[];
  assert.match(listed.find((t) => t.id === tokenId)?.revokedAt ?? '', /^\d{4}-/);
});
