import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { NewToken, TokenRecord, TokenStore } from '../../src/ports/token-store.ts';

// Every test names its own tokens, so the suite also passes on a store that already
// holds tokens (a shared database schema).
const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
const hashOf = (s: string): string => createHash('sha256').update(s).digest('hex');
const at = (s: number): string => new Date(Date.UTC(2024, 0, 1) + s * 1000).toISOString();
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const newToken = (over: Partial<NewToken> = {}): NewToken => ({
  id: uid('tok'), name: uid('name'), role: 'view', hash: hashOf(randomUUID()), ...over,
});

/** The behaviour every TokenStore must show; `open` gives a metadata store on fresh or shared storage. */
export function tokenStoreContract(name: string, open: () => Promise<MetadataStore>): void {
  describe(`TokenStore contract: ${name}`, () => {
    let meta: MetadataStore;
    let store: TokenStore;
    const mine = async (...ids: string[]): Promise<TokenRecord[]> =>
      (await store.list()).filter((t) => ids.includes(t.id));

    before(async () => {
      meta = await open();
      await meta.migrate();
      store = meta.tokens;
    });
    after(async () => {
      await meta.close();
    });

    it('creates a token and returns it without its hash', async () => {
      const t = newToken({ role: 'edit', createdAt: at(5) });
      const r = await store.create(t);
      assert.deepEqual(r, { id: t.id, name: t.name, role: 'edit', createdAt: at(5), lastUsedAt: null, revokedAt: null });
      const now = await store.create(newToken());
      assert.match(now.createdAt, ISO_UTC);
      assert.ok(Math.abs(Date.parse(now.createdAt) - Date.now()) < 60_000, 'createdAt defaults to the store clock');
    });

    it('never lists hashes', async () => {
      const a = newToken({ role: 'admin', createdAt: at(10) });
      const b = newToken({ role: 'view', createdAt: at(11) });
      await store.create(a);
      await store.create(b);
      const all = await store.list();
      const text = JSON.stringify(all);
      assert.ok(!text.includes(a.hash) && !text.includes(b.hash), 'a hash leaked into list()');
      for (const t of all) assert.deepEqual(Object.keys(t).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role']);
      assert.deepEqual((await mine(a.id, b.id)).map((t) => [t.id, t.role]), [[a.id, 'admin'], [b.id, 'view']]);
    });

    it('lists oldest first, revoked tokens included', async () => {
      const old = newToken({ createdAt: at(1) });
      const young = newToken({ createdAt: at(2) });
      await store.create(young);
      await store.create(old);
      assert.equal(await store.revoke(old.id), true);
      const listed = await mine(old.id, young.id);
      assert.deepEqual(listed.map((t) => t.id), [old.id, young.id]);
      assert.match(listed[0]!.revokedAt ?? '', ISO_UTC);
      assert.equal(listed[1]!.revokedAt, null);
    });

    it('finds an active token by its hash, and nothing for an unknown hash', async () => {
      const t = newToken({ role: 'edit' });
      const created = await store.create(t);
      assert.deepEqual(await store.findByHash(t.hash), created);
      assert.equal(await store.findByHash(hashOf(randomUUID())), undefined);
      assert.equal(await store.findByHash(''), undefined);
    });

    it('does not find a revoked token, by id or by name, and revokes only once', async () => {
      const byId = await store.create(newToken());
      const byName = newToken();
      await store.create(byName);
      assert.equal(await store.revoke(byId.id), true);
      assert.equal(await store.revoke(byName.name), true);
      assert.equal(await store.findByHash(byName.hash), undefined);
      assert.equal(await store.revoke(byId.id), false, 'already revoked');
      assert.equal(await store.revoke(byName.name), false, 'already revoked');
      assert.equal(await store.revoke(uid('nobody')), false, 'unknown');
    });

    it('refuses a second active token with the same name, and frees the name on revoke', async () => {
      const first = newToken({ name: uid('ci') });
      await store.create(first);
      await assert.rejects(store.create(newToken({ name: first.name })), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'conflict');
        assert.match(err.message, new RegExp(`token named "${first.name}" already exists`));
        return true;
      });
      assert.equal((await store.list()).filter((t) => t.name === first.name).length, 1, 'the refused token was not stored');
      await store.revoke(first.name);
      const second = newToken({ name: first.name });
      await store.create(second);
      // The name now means the active token only.
      assert.equal(await store.revoke(first.name), true);
      assert.equal(await store.findByHash(second.hash), undefined);
    });

    it('refuses a duplicate hash or id', async () => {
      const t = newToken();
      await store.create(t);
      await assert.rejects(store.create(newToken({ hash: t.hash })), { code: 'conflict' });
      await assert.rejects(store.create(newToken({ id: t.id })), { code: 'conflict' });
    });

    it('revokes by id before name, so a name equal to another id revokes one token only', async () => {
      const target = await store.create(newToken());
      const lookalike = newToken({ name: target.id });
      await store.create(lookalike);
      assert.equal(await store.revoke(target.id), true);
      assert.equal((await mine(lookalike.id))[0]!.revokedAt, null, 'the token named like the id is still active');
      assert.equal(await store.revoke(target.id), true, 'now the name matches');
      assert.notEqual((await mine(lookalike.id))[0]!.revokedAt, null);
    });

    it('touch records the last use and never moves it backwards', async () => {
      const t = await store.create(newToken());
      await store.touch(t.id, at(100));
      assert.equal((await mine(t.id))[0]!.lastUsedAt, at(100));
      await store.touch(t.id, at(50));
      assert.equal((await mine(t.id))[0]!.lastUsedAt, at(100));
      await store.touch(t.id);
      assert.ok(Date.parse((await mine(t.id))[0]!.lastUsedAt!) > Date.parse(at(100)), 'defaults to now');
      await store.touch(uid('nobody'));
    });

    it('binds values, so quotes and SQL in a name are stored as text', async () => {
      const name = `o'brien"); DROP TABLE api_tokens; --${randomUUID().slice(0, 4)}`;
      const t = newToken({ name });
      await store.create(t);
      assert.equal((await store.findByHash(t.hash))?.name, name);
      assert.equal(await store.revoke(name), true);
    });

    it('rejects a role outside view, edit, admin', async () => {
      await assert.rejects(store.create(newToken({ role: 'root' as never })), /role/);
    });
  });
}
