/**
 * `ionsieve token create|list|revoke` through bin/ionsieve.js on a PGlite data directory, and the
 * admin token `ionsieve start` makes on the embedded database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { ensureLocalAdminToken, localAdminTokenPath, renderTokenTable } from '../../src/cli/token.js';
import { authenticateToken, listApiTokens } from '../../src/services/tokens.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { embeddedCli } from '../support/processes.js';
import { captureLogger, testConfig } from '../graphql/harness.js';

const work = mkdtempSync(join(tmpdir(), 'ionsieve-token-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ionsieve = embeddedCli(work);

test('token create prints the secret once on stdout; list never shows it; revoke; errors in one line', () => {
  const created = ionsieve('token', 'create', '--role', 'curator', '--name', 'alice');
  assert.equal(created.status, 0, created.stderr);
  const secret = created.stdout.trim();
  assert.match(secret, /^isv_[A-Za-z0-9_-]{43}$/, 'stdout is the secret alone');
  assert.ok(!created.stderr.includes(secret), 'the logs do not carry the secret');

  const listed = ionsieve('token', 'list', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok(!listed.stdout.includes(secret));
  const [alice] = listed.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual([alice.name, alice.role, alice.createdBy, alice.revokedAt], ['alice', 'curator', 'cli', null]);
  assert.equal(alice.token_hash ?? alice.tokenHash, undefined);

  const revoked = ionsieve('token', 'revoke', alice.id);
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(revoked.stderr, /API token revoked/);

  const missing = ionsieve('token', 'revoke', '999');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^ionsieve: API token 999 not found$/m);
  const badRole = ionsieve('token', 'create', '--role', 'root', '--name', 'x');
  assert.notEqual(badRole.status, 0);
  assert.match(badRole.stderr, /Allowed choices are reader, curator, admin/);
});

test('renderTokenTable aligns the columns', () => {
  const table = renderTokenTable([
    { id: '1', name: 'local admin', role: 'admin', createdAt: new Date('2026-12-01T10:00:00Z'), createdBy: 'ionsieve start', lastUsedAt: null, revokedAt: null },
  ]);
  assert.deepEqual(table.split('\n'), [
    'ID  NAME         ROLE   CREATED               CREATED BY      LAST USED  REVOKED',
    '1   local admin  admin  2026-12-01T10:00:00Z  ionsieve start  -          -',
  ]);
});

describeDatabases('ionsieve start: the local admin token', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('the embedded database gets one admin token, its secret in a 0600 file beside the data directory; never logged', async () => {
    const { db, dialect } = database();
    const dataDir = join(mkdtempSync(join(work, 'start-')), 'pgdata');
    const { logger, lines } = captureLogger();
    const ctx = { db, dialect, logger, config: { ...testConfig, dataDir } };
    const path = await ensureLocalAdminToken({ ...ctx, dialect: 'pglite' });
    assert.equal(path, localAdminTokenPath(dataDir));
    assert.equal(path, join(dataDir, '..', 'admin-token'));
    assert.equal(statSync(path!).mode & 0o777, 0o600);
    const secret = readFileSync(path!, 'utf8').trim();
    assert.deepEqual({ ...(await authenticateToken(db, secret)), tokenId: undefined }, { kind: 'token', tokenId: undefined, name: 'local admin', role: 'admin' });
    assert.ok(lines.some((line) => line.path === path), 'the path is logged');
    assert.ok(!JSON.stringify(lines).includes(secret), 'the secret is not');

    // A live admin token exists: nothing more is made.
    assert.equal(await ensureLocalAdminToken({ ...ctx, dialect: 'pglite' }), undefined);
    assert.equal((await listApiTokens(db)).length, 1);

    // On PostgreSQL (a deployment) no token is made: the operator creates one.
    await resetDatabase(db);
    assert.equal(await ensureLocalAdminToken({ ...ctx, dialect: 'postgres' }), undefined);
    assert.equal((await listApiTokens(db)).length, 0);
    assert.ok(lines.some((line) => /ionsieve token create --role admin/.test(String(line.msg))));
  });
});
