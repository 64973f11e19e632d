import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_OPTIMADE_HOSTS, loadConfig } from '../../src/config.js';

test('config defaults, overrides and validation', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults, {
    databaseUrl: undefined,
    sessionDatabaseUrl: undefined,
    dataDir: '.ionsieve/pgdata',
    host: '127.0.0.1',
    port: 4000,
    logLevel: 'info',
    maxSites: 2000,
    maxTextBytes: 5 * 1024 * 1024,
    maxBatchSize: 1000,
    seedDir: 'data',
    dbPoolSize: 10,
    limits: {
      introspection: true,
      maxDepth: 8,
      maxCost: 30_000,
      maxAliases: 15,
      maxTokens: 1000,
      maxBodyBytes: 10 * 1024 * 1024,
      rateLimitPoints: 3000,
      rateLimitDurationSeconds: 60,
    },
    requireAuth: false,
    trustProxy: false,
    responseCache: { maxEntries: 20_000, maxBytes: 64 * 1024 * 1024, consistency: 'strict' },
    trainerNice: 10,
    trainerIsolation: 'process',
    optimadeHosts: DEFAULT_OPTIMADE_HOSTS,
  });
  assert.equal(loadConfig({ IONSIEVE_TRAINER_NICE: '0' }).trainerNice, 0);
  assert.equal(loadConfig({ IONSIEVE_TRAINER_ISOLATION: 'inline' }).trainerIsolation, 'inline');
  assert.throws(() => loadConfig({ IONSIEVE_TRAINER_ISOLATION: 'thread' }), /IONSIEVE_TRAINER_ISOLATION/);
  assert.throws(() => loadConfig({ IONSIEVE_TRAINER_NICE: '20' }), /IONSIEVE_TRAINER_NICE/);
  assert.ok(Object.isFrozen(defaults));
  assert.deepEqual(
    loadConfig({ IONSIEVE_RESPONSE_CACHE_ENTRIES: '0', IONSIEVE_RESPONSE_CACHE_MB: '8', IONSIEVE_RESPONSE_CACHE_CONSISTENCY: 'notify' }).responseCache,
    { maxEntries: 0, maxBytes: 8 * 1024 * 1024, consistency: 'notify' },
  );
  assert.throws(() => loadConfig({ IONSIEVE_RESPONSE_CACHE_CONSISTENCY: 'eventual' }), /IONSIEVE_RESPONSE_CACHE_CONSISTENCY/);
  // Empty values (as docker-compose writes unset variables) mean "default".
  assert.equal(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl, undefined);

  const set = loadConfig({
    DATABASE_URL: 'postgres://u@db:5432/ionsieve',
    IONSIEVE_DATA_DIR: '/var/lib/ionsieve',
    PORT: '8080',
    LOG_LEVEL: 'debug',
    IONSIEVE_MAX_SITES: '500',
    IONSIEVE_MAX_BATCH: '10',
    IONSIEVE_DB_POOL_SIZE: '4',
  });
  assert.equal(set.dbPoolSize, 4);
  assert.equal(set.sessionDatabaseUrl, set.databaseUrl, 'LISTEN uses DATABASE_URL unless told otherwise');
  assert.equal(
    loadConfig({ DATABASE_URL: 'postgres://u@pgbouncer:6432/db', IONSIEVE_SESSION_DATABASE_URL: 'postgres://u@db:5432/db' }).sessionDatabaseUrl,
    'postgres://u@db:5432/db',
  );
  assert.equal(set.databaseUrl, 'postgres://u@db:5432/ionsieve');
  assert.equal(set.port, 8080);
  assert.equal(set.maxSites, 500);
  assert.equal(set.maxBatchSize, 10);
  assert.equal(set.logLevel, 'debug');

  const limits = loadConfig({
    IONSIEVE_INTROSPECTION: 'false',
    IONSIEVE_MAX_DEPTH: '10',
    IONSIEVE_MAX_COST: '5000',
    IONSIEVE_MAX_ALIASES: '3',
    IONSIEVE_MAX_TOKENS: '400',
    IONSIEVE_MAX_BODY_BYTES: '65536',
    IONSIEVE_RATE_LIMIT_POINTS: '0',
    IONSIEVE_RATE_LIMIT_DURATION: '10',
  }).limits;
  assert.deepEqual(limits, {
    introspection: false,
    maxDepth: 10,
    maxCost: 5000,
    maxAliases: 3,
    maxTokens: 400,
    maxBodyBytes: 65536,
    rateLimitPoints: 0,
    rateLimitDurationSeconds: 10,
  });
  assert.ok(Object.isFrozen(limits));
  assert.equal(loadConfig({ IONSIEVE_INTROSPECTION: 'TRUE' }).limits.introspection, true);
  assert.throws(() => loadConfig({ IONSIEVE_INTROSPECTION: 'no' }), /IONSIEVE_INTROSPECTION/);
  assert.throws(() => loadConfig({ IONSIEVE_RATE_LIMIT_POINTS: '-1' }), /IONSIEVE_RATE_LIMIT_POINTS/);
  assert.throws(() => loadConfig({ IONSIEVE_MAX_DEPTH: '0' }), /IONSIEVE_MAX_DEPTH/);
  assert.equal(loadConfig({ IONSIEVE_REQUIRE_AUTH: 'true' }).requireAuth, true);
  assert.equal(loadConfig({ IONSIEVE_REQUIRE_AUTH: '0' }).requireAuth, false);
  assert.throws(() => loadConfig({ IONSIEVE_REQUIRE_AUTH: 'yes please' }), /IONSIEVE_REQUIRE_AUTH/);

  assert.equal(loadConfig({}).trustProxy, false, 'no proxy is trusted by default');
  assert.equal(loadConfig({ IONSIEVE_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.equal(loadConfig({ IONSIEVE_TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ IONSIEVE_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy, 'loopback, 10.0.0.0/8');
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
  assert.throws(() => loadConfig({ IONSIEVE_MAX_SITES: '0' }), /IONSIEVE_MAX_SITES/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
  assert.throws(() => loadConfig({ DATABASE_URL: 'not a url' }), /DATABASE_URL/);
});
