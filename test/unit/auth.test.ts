import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenError, UnauthorizedError, type UnauthorizedReason } from '../../src/core/errors.ts';
import type { NewToken, TokenRecord, TokenStore } from '../../src/ports/token-store.ts';
import { authenticate, authorize, isRole, parseRole, roleAllows, ROLES, type Role } from '../../src/server/auth/roles.ts';
import {
  challenge, constantTimeEqual, generateToken, hashToken, issueToken, parseBearer, TOKEN_ID_PATTERN, TOKEN_PATTERN,
} from '../../src/server/auth/tokens.ts';

const unauthorized = (reason: UnauthorizedReason) => (err: unknown): boolean => {
  assert.ok(err instanceof UnauthorizedError, `expected UnauthorizedError, got ${String(err)}`);
  assert.equal(err.code, 'unauthorized');
  assert.equal(err.reason, reason);
  return true;
};

/** An in-memory TokenStore that counts calls, for what authenticate does with a store. */
function fakeStore() {
  const rows: (TokenRecord & { hash: string })[] = [];
  const calls = { findByHash: 0, touch: [] as [string, string | undefined][] };
  const strip = ({ hash: _hash, ...t }: TokenRecord & { hash: string }): TokenRecord => t;
  const store: TokenStore & { calls: typeof calls; rows: typeof rows } = {
    calls,
    rows,
    async create(t: NewToken) {
      if (rows.some((r) => r.name === t.name && r.revokedAt === null)) throw new Error('duplicate');
      const r = { id: t.id, name: t.name, role: t.role, hash: t.hash, createdAt: t.createdAt ?? new Date().toISOString(), lastUsedAt: null, revokedAt: null };
      rows.push(r);
      return strip(r);
    },
    async findByHash(hash) {
      calls.findByHash++;
      const r = rows.find((x) => x.hash === hash && x.revokedAt === null);
      return r && strip(r);
    },
    async list() {
      return rows.map(strip);
    },
    async revoke(idOrName) {
      const i = rows.findIndex((r) => r.revokedAt === null && (r.id === idOrName || r.name === idOrName));
      if (i < 0) return false;
      rows[i] = { ...rows[i]!, revokedAt: new Date().toISOString() };
      return true;
    },
    async touch(id, at) {
      calls.touch.push([id, at]);
      const i = rows.findIndex((r) => r.id === id);
      rows[i] = { ...rows[i]!, lastUsedAt: at ?? new Date().toISOString() };
    },
  };
  return store;
}

describe('tokens', () => {
  it('generates slc_ + 32 random bytes in base64url, different every time', () => {
    const tokens = Array.from({ length: 200 }, generateToken);
    for (const t of tokens) {
      assert.match(t, TOKEN_PATTERN);
      assert.equal(t.length, 4 + 43);
      assert.equal(Buffer.from(t.slice(4), 'base64url').length, 32);
    }
    assert.equal(new Set(tokens).size, tokens.length);
  });

  it('hashes with SHA-256 as 64 lowercase hex characters', () => {
    // The FIPS 180-2 test vector for "abc".
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const t = generateToken();
    assert.equal(hashToken(t), hashToken(t));
    assert.match(hashToken(t), /^[0-9a-f]{64}$/);
    assert.notEqual(hashToken(t), hashToken(generateToken()));
    assert.ok(!hashToken(t).includes(t.slice(4, 12)));
  });

  it('compares in constant time and still gets the answer right', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('é', 'e'), false);
  });
});

describe('parseBearer', () => {
  const token = generateToken();

  it('returns the token of a well-formed header, whatever the scheme case and spacing', () => {
    assert.equal(parseBearer(`Bearer ${token}`), token);
    assert.equal(parseBearer(`bearer ${token}`), token);
    assert.equal(parseBearer(`BEARER ${token}`), token);
    assert.equal(parseBearer(`Bearer   ${token}`), token, 'several spaces between scheme and token (RFC 7235 1*SP)');
    assert.equal(parseBearer(`  Bearer ${token}  `), token, 'surrounding blanks');
  });

  it('says missing for no header or a blank one', () => {
    for (const h of [undefined, '', '   ', '\t']) assert.throws(() => parseBearer(h), unauthorized('missing'), JSON.stringify(h));
  });

  it('says malformed for another scheme, no token, or more than one token', () => {
    const cases = [
      `Basic ${Buffer.from('u:p').toString('base64')}`,
      `Token ${token}`,
      'Bearer',
      'Bearer ',
      `Bearer${token}`,
      `Bearer ${token} extra`,
      `Bearer ${token} ${token}`,
      `Bearer\t${token}`,
      `Bearer: ${token}`,
      token,
    ];
    for (const h of cases) assert.throws(() => parseBearer(h), unauthorized('malformed'), h);
  });

  it('says malformed for a token that is not a Sluice token', () => {
    for (const t of ['abc', 'slc_short', `slc_${'a'.repeat(44)}`, `xyz_${'a'.repeat(43)}`, `slc_${'a'.repeat(42)}=`]) {
      assert.throws(() => parseBearer(`Bearer ${t}`), unauthorized('malformed'), t);
    }
  });

  it('builds the RFC 6750 challenge for each reason', () => {
    assert.equal(challenge(new UnauthorizedError('missing', 'm')), 'Bearer realm="sluice"');
    assert.equal(challenge(new UnauthorizedError('malformed', 'm')), 'Bearer realm="sluice", error="invalid_request"');
    assert.equal(challenge(new UnauthorizedError('invalid', 'm')), 'Bearer realm="sluice", error="invalid_token"');
  });
});

describe('roles', () => {
  it('orders view < edit < admin', () => {
    assert.deepEqual(ROLES, ['view', 'edit', 'admin']);
    const expected: Record<Role, Record<Role, boolean>> = {
      view: { view: true, edit: false, admin: false },
      edit: { view: true, edit: true, admin: false },
      admin: { view: true, edit: true, admin: true },
    };
    for (const have of ROLES) {
      for (const need of ROLES) assert.equal(roleAllows(have, need), expected[have][need], `${have} → ${need}`);
    }
  });

  it('allows nothing for a role it does not know', () => {
    assert.equal(roleAllows('root' as Role, 'view'), false);
    assert.equal(roleAllows('admin', 'root' as Role), false);
    assert.equal(isRole('admin'), true);
    assert.equal(isRole('Admin'), false);
    assert.equal(isRole(undefined), false);
  });

  it('parses a role or names the allowed ones', () => {
    assert.equal(parseRole('edit'), 'edit');
    assert.throws(() => parseRole('root', '--role'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'validation');
      assert.match(err.message, /unknown role "root"; --role must be one of view, edit, admin/);
      return true;
    });
  });

  it('authorize throws a 403 ForbiddenError when the role is too weak', () => {
    const who = { tokenId: 'tok_1', name: 'ci', role: 'edit' as const };
    authorize(who, 'view');
    authorize(who, 'edit');
    assert.throws(() => authorize(who, 'admin', 'createToken'), (err: unknown) => {
      assert.ok(err instanceof ForbiddenError);
      assert.equal(err.code, 'forbidden');
      assert.match(err.message, /createToken needs role admin; token ci has role edit/);
      return true;
    });
  });
});

describe('issueToken', () => {
  it('stores the hash, never the secret, and returns the secret once', async () => {
    const store = fakeStore();
    const { record, token } = await issueToken(store, { role: 'edit', name: 'ci' });
    assert.match(token, TOKEN_PATTERN);
    assert.match(record.id, TOKEN_ID_PATTERN);
    assert.deepEqual({ name: record.name, role: record.role }, { name: 'ci', role: 'edit' });
    assert.equal(store.rows[0]!.hash, hashToken(token));
    assert.ok(!JSON.stringify(store.rows).includes(token));
  });

  it('names a token after its role and id when no name is given', async () => {
    const { record } = await issueToken(fakeStore(), { role: 'view' });
    assert.equal(record.name, `view-${record.id.slice(4, 12)}`);
  });

  it('refuses names that are empty, too long, odd, or look like an id', async () => {
    for (const name of ['', ' ci', 'a b', 'x'.repeat(65), '-ci', 'ci;drop', 'tok_0123456789abcdef']) {
      await assert.rejects(issueToken(fakeStore(), { role: 'view', name }), { code: 'validation' }, name);
    }
  });
});

describe('authenticate', () => {
  const setup = async (role: Role = 'edit') => {
    const store = fakeStore();
    const { record, token } = await issueToken(store, { role, name: 'svc' });
    return { store, record, token };
  };

  it('returns the token id, name and role of a valid token and records the use', async () => {
    const { store, record, token } = await setup('admin');
    const now = new Date('2024-05-01T00:00:00Z');
    assert.deepEqual(await authenticate(`Bearer ${token}`, store, { now: () => now }), { tokenId: record.id, name: 'svc', role: 'admin' });
    assert.deepEqual(store.calls.touch, [[record.id, now.toISOString()]]);
  });

  it('writes lastUsedAt at most once per interval', async () => {
    const { store, token } = await setup();
    const t0 = Date.parse('2024-05-01T00:00:00Z');
    const at = (ms: number) => ({ now: () => new Date(t0 + ms), touchEveryMs: 60_000 });
    await authenticate(`Bearer ${token}`, store, at(0));
    await authenticate(`Bearer ${token}`, store, at(59_999));
    assert.equal(store.calls.touch.length, 1);
    await authenticate(`Bearer ${token}`, store, at(60_000));
    assert.equal(store.calls.touch.length, 2);
  });

  it('rejects a missing or malformed header without asking the store', async () => {
    const { store, token } = await setup();
    await assert.rejects(authenticate(undefined, store), unauthorized('missing'));
    await assert.rejects(authenticate('', store), unauthorized('missing'));
    await assert.rejects(authenticate(`Basic ${token}`, store), unauthorized('malformed'));
    await assert.rejects(authenticate('Bearer nope', store), unauthorized('malformed'));
    assert.equal(store.calls.findByHash, 0);
  });

  it('rejects an unknown and a revoked token alike, as invalid', async () => {
    const { store, token, record } = await setup();
    const unknown = await authenticate(`Bearer ${generateToken()}`, store).catch((e: unknown) => e);
    assert.ok(unauthorized('invalid')(unknown));
    assert.equal(await store.revoke(record.id), true);
    const revoked = await authenticate(`Bearer ${token}`, store).catch((e: unknown) => e);
    assert.ok(unauthorized('invalid')(revoked));
    assert.equal((revoked as Error).message, (unknown as Error).message, 'unknown and revoked look the same');
    assert.equal(store.calls.touch.length, 0);
  });

  it('rejects a revoked token even from a store that returns it', async () => {
    const { store, token, record } = await setup();
    const leaky: Pick<TokenStore, 'findByHash' | 'touch'> = {
      findByHash: async () => ({ ...record, revokedAt: '2024-01-01T00:00:00.000Z' }),
      touch: store.touch,
    };
    await assert.rejects(authenticate(`Bearer ${token}`, leaky), unauthorized('invalid'));
  });
});
