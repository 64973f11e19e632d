import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';

test('config defaults, overrides and validation', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults, {
    databaseUrl: undefined,
    dataDir: '.ionsieve/pgdata',
    host: '127.0.0.1',
    port: 4000,
    logLevel: 'info',
    maxSites: 2000,
    maxTextBytes: 5 * 1024 * 1024,
    maxBatchSize: 1000,
    seedDir: 'data',
  });
  assert.ok(Object.isFrozen(defaults));
  // Empty values (as docker-compose writes unset variables) mean "default".
  assert.equal(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl, undefined);

  const set = loadConfig({
    DATABASE_URL: 'postgres://u@db:5432/ionsieve',
    IONSIEVE_DATA_DIR: '/var/lib/ionsieve',
    PORT: '8080',
    LOG_LEVEL: 'debug',
    IONSIEVE_MAX_SITES: '500',
    IONSIEVE_MAX_BATCH: '10',
  });
  assert.equal(set.databaseUrl, 'postgres://u@db:5432/ionsieve');
  assert.equal(set.port, 8080);
  assert.equal(set.maxSites, 500);
  assert.equal(set.maxBatchSize, 10);
  assert.equal(set.logLevel, 'debug');

  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
  assert.throws(() => loadConfig({ IONSIEVE_MAX_SITES: '0' }), /IONSIEVE_MAX_SITES/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
  assert.throws(() => loadConfig({ DATABASE_URL: 'not a url' }), /DATABASE_URL/);
});
