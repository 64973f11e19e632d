import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { DomainError } from '../../src/errors.js';
import {
  authenticateRequest,
  authenticateToken,
  bearerSecret,
  countLiveTokens,
  createApiToken,
  listApiTokens,
  requireRole,
  revokeApiToken,
  roleAtLeast,
  type Principal,
} from '../../src/services/tokens.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';

/** Resolves to the domain code a promise (or function) fails with. */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof DomainError, `not a DomainError: ${String(error)}`);
    return error.code;
  }
  assert.fail('expected an error');
}

test('roles are ordered reader < curator < admin', () => {
  assert.ok(roleAtLeast('admin', 'curator') && roleAtLeast('curator', 'curator') && roleAtLeast('curator', 'reader'));
  assert.ok(!roleAtLeast('reader', 'curator') && !roleAtLeast('curator', 'admin'));
});

test('requireRole: anonymous is UNAUTHENTICATED, a lower role FORBIDDEN, both naming the needed role', async () => {
  const reader: Principal = { kind: 'token', tokenId: '1', name: 'r', role: 'reader' };
  assert.equal(await codeOf(() => requireRole({ kind: 'anonymous' }, 'curator', 'Mutation.x')), 'UNAUTHENTICATED');
  assert.equal(await codeOf(() => requireRole(reader, 'admin', 'Mutation.x')), 'FORBIDDEN');
  assert.throws(() => requireRole(reader, 'admin', 'Mutation.x'), /needs role admin; token "r" has role reader/);
  requireRole(reader, 'reader', 'Query.x');
});

test('bearerSecret: "Bearer <token>", bare tokens only where allowed, anything else refused', async () => {
  assert.equal(bearerSecret(undefined), undefined);
  assert.equal(bearerSecret(''), undefined);
  assert.equal(bearerSecret('Bearer abc'), 'abc');
  assert.equal(bearerSecret('bearer   abc '), 'abc');
  assert.equal(bearerSecret('abc', { allowBare: true }), 'abc');
  assert.equal(await codeOf(() => bearerSecret('abc')), 'UNAUTHENTICATED');
  assert.equal(await codeOf(() => bearerSecret('Basic dXNlcjpwdw==')), 'UNAUTHENTICATED');
  assert.equal(await codeOf(() => bearerSecret(42, { allowBare: true })), 'UNAUTHENTICATED');
});

describeDatabases('API tokens', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('a token is isv_ + 43 base64url characters; only its SHA-256 is stored, never the secret', async () => {
    const { db } = database();
    const { token, secret } = await createApiToken(db, { name: 'alice', role: 'curator' }, 'cli');
    assert.match(secret, /^isv_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual({ ...token, createdAt: undefined }, {
      id: token.id,
      name: 'alice',
      role: 'curator',
      createdAt: undefined,
      createdBy: 'cli',
      lastUsedAt: null,
      revokedAt: null,
    });
    const { rows } = await sql<Record<string, unknown>>`select * from api_token`.execute(db);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, createHash('sha256').update(secret).digest('hex'));
    const everyColumn = JSON.stringify(rows);
    assert.ok(!everyColumn.includes(secret) && !everyColumn.includes(secret.slice(4)), 'the secret is not in the table');
    assert.ok(!JSON.stringify(await listApiTokens(db)).includes(rows[0]!.token_hash as string), 'listing never returns the hash');
  });

  test('authenticate: a live token gives its principal and records its use; unknown, malformed and revoked tokens are refused', async () => {
    const { db } = database();
    const { token, secret } = await createApiToken(db, { name: 'bob', role: 'admin' });
    assert.deepEqual(await authenticateToken(db, secret), { kind: 'token', tokenId: token.id, name: 'bob', role: 'admin' });
    const [used] = await listApiTokens(db);
    assert.ok(used!.lastUsedAt instanceof Date, 'last_used_at is set on use');

    const unknown = `isv_${'A'.repeat(43)}`;
    assert.equal(await codeOf(() => authenticateToken(db, unknown)), 'UNAUTHENTICATED');
    assert.equal(await codeOf(() => authenticateToken(db, 'isv_short')), 'UNAUTHENTICATED');
    assert.equal(await codeOf(() => authenticateToken(db, token.id)), 'UNAUTHENTICATED');

    const revoked = await revokeApiToken(db, token.id);
    assert.ok(revoked.revokedAt instanceof Date);
    assert.equal(await codeOf(() => authenticateToken(db, secret)), 'UNAUTHENTICATED');
    // Revoking again changes nothing.
    assert.deepEqual((await revokeApiToken(db, token.id)).revokedAt, revoked.revokedAt);
    assert.equal(await codeOf(() => revokeApiToken(db, '999999')), 'NOT_FOUND');
    assert.equal(await codeOf(() => revokeApiToken(db, 'x')), 'BAD_USER_INPUT');
  });

  test('authenticateRequest: anonymous without a token unless required; an invalid token is refused even for open reads', async () => {
    const { db } = database();
    const { secret } = await createApiToken(db, { name: 'reader one', role: 'reader' });
    assert.deepEqual(await authenticateRequest(db, undefined, { requireAuth: false }), { kind: 'anonymous' });
    assert.equal(await codeOf(() => authenticateRequest(db, undefined, { requireAuth: true })), 'UNAUTHENTICATED');
    assert.equal((await authenticateRequest(db, `Bearer ${secret}`, { requireAuth: true })).kind, 'token');
    assert.equal(await codeOf(() => authenticateRequest(db, `Bearer ${secret}x`, { requireAuth: false })), 'UNAUTHENTICATED');
  });

  test('names: checked, unique among live tokens, reusable once revoked; roles checked', async () => {
    const { db } = database();
    const first = await createApiToken(db, { name: 'ci', role: 'reader' });
    assert.equal(await codeOf(() => createApiToken(db, { name: 'ci', role: 'admin' })), 'CONFLICT');
    assert.equal(await codeOf(() => createApiToken(db, { name: ' ', role: 'admin' })), 'BAD_USER_INPUT');
    assert.equal(await codeOf(() => createApiToken(db, { name: 'x\ny', role: 'admin' })), 'BAD_USER_INPUT');
    assert.equal(await codeOf(() => createApiToken(db, { name: 'x', role: 'root' as never })), 'BAD_USER_INPUT');
    await revokeApiToken(db, first.token.id);
    const second = await createApiToken(db, { name: 'ci', role: 'curator' });
    assert.notEqual(second.token.id, first.token.id);
    assert.equal(await countLiveTokens(db), 1);
    assert.equal(await countLiveTokens(db, 'admin'), 0);
    assert.deepEqual((await listApiTokens(db, { includeRevoked: false })).map((t) => t.id), [second.token.id]);
    assert.equal((await listApiTokens(db)).length, 2);
  });
});
