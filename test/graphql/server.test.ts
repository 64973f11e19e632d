/**
 * The real HTTP server: startServer on a free port, GraphQL over POST with fetch, health and
 * readiness probes, request ids, body limit, then a graceful close.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/server.js';
import { createApiToken } from '../../src/services/tokens.js';
import { describeDatabases } from '../support/databases.js';
import { captureLogger, fixture, testConfig } from './harness.js';

const BODY_LIMIT_BYTES = 64 * 1024;

describeDatabases('HTTP server', (database) => {
  let server: RunningServer;
  let curator: string;
  const { logger, lines } = captureLogger();

  before(async () => {
    curator = (await createApiToken(database().db, { name: 'bob', role: 'curator' })).secret;
    server = await startServer({
      db: database().db,
      config: { ...testConfig, host: '127.0.0.1', port: 0 },
      logger,
      bodyLimitBytes: BODY_LIMIT_BYTES,
    });
  });
  after(async () => {
    await server?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${curator}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('POST /graphql runs a mutation and a query; the request id is echoed and logged', async () => {
    const add = await post(
      {
        query: 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id reducedFormula nsites createdAt } }',
        variables: { inputs: [{ structure: { format: 'CIF', text: fixture('licl-rocksalt-p1.cif') } }] },
      },
      { 'x-request-id': 'http-test-1' },
    );
    assert.equal(add.status, 200);
    assert.equal(add.headers.get('x-request-id'), 'http-test-1');
    const added = (await add.json()) as any;
    assert.equal(added.errors, undefined, JSON.stringify(added.errors));
    assert.equal(added.data.addMaterials[0].reducedFormula, 'LiCl');
    assert.equal(added.data.addMaterials[0].nsites, 8);

    const read = await post({ query: '{ materials(filter: {elementsHasAll: ["Li"]}) { totalCount nodes { id } } }' });
    assert.equal(read.status, 200);
    const generatedId = read.headers.get('x-request-id');
    assert.match(generatedId ?? '', /^[0-9a-f-]{36}$/);
    const page = (await read.json()) as any;
    assert.deepEqual(page.data.materials, { totalCount: 1, nodes: [{ id: added.data.addMaterials[0].id }] });

    const label = await post(
      { query: `mutation { labelMaterial(input: {materialId: "${added.data.addMaterials[0].id}", class: FAST}) { createdBy } }` },
    );
    assert.deepEqual(((await label.json()) as any).data, { labelMaterial: { createdBy: 'bob' } });

    const requestLog = lines.find((line) => line.requestId === 'http-test-1' && line.msg === 'request');
    assert.ok(requestLog, 'one log line per request');
    assert.equal(requestLog.status, 200);
    assert.equal(requestLog.method, 'POST');
    assert.equal(typeof requestLog.durationMs, 'number');
  });

  test('bad input over HTTP: BAD_USER_INPUT in the GraphQL errors', async () => {
    const response = await post({ query: 'mutation { addMaterials(inputs: [{composition: "LiXx"}]) { id } }' });
    const body = (await response.json()) as any;
    assert.equal(body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(body.errors[0].message, /"Xx"/);
    assert.equal(body.errors[0].extensions.stacktrace, undefined);
  });

  test('graphql-ws on the same path runs operations over a WebSocket', async () => {
    const client = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
    const run = (query: string) =>
      new Promise<any>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query }, { next: (data) => (value = data), error: reject, complete: () => resolve(value) });
      });
    try {
      const ok = await run('{ materials(first: 1) { totalCount } }');
      assert.equal(typeof ok.data.materials.totalCount, 'number');
      // Errors are formatted by the same mapper as over HTTP.
      const bad = await run('{ materials(first: 0) { totalCount } }');
      assert.equal(bad.errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.match(bad.errors[0].message, /first must be between 1 and 200/);
    } finally {
      await client.dispose();
    }
  });

  test('/healthz and /readyz answer 200', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  test('a body over the limit or malformed JSON gets a JSON error, not an HTML page', async () => {
    const tooLarge = await post({ query: `{ materials { totalCount } } # ${'x'.repeat(BODY_LIMIT_BYTES)}` });
    assert.equal(tooLarge.status, 413);
    const large = (await tooLarge.json()) as any;
    assert.equal(large.errors[0].extensions.code, 'BAD_REQUEST');
    assert.match(large.errors[0].message, /larger than the limit/);

    const malformed = await post('{"query": ');
    assert.equal(malformed.status, 400);
    const bad = (await malformed.json()) as any;
    assert.equal(bad.errors[0].extensions.code, 'BAD_REQUEST');
  });
});

test('/readyz answers 503 while the database is down; close() stops the server', async () => {
  const { logger } = captureLogger('silent');
  const unreachableDb = {
    selectNoFrom: () => ({
      execute: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
    }),
  };
  const running = await startServer({
    db: unreachableDb as never,
    config: { ...testConfig, host: '127.0.0.1', port: 0 },
    logger,
  });
  assert.equal((await fetch(`${running.url}/healthz`)).status, 200);
  const ready = await fetch(`${running.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'database unreachable' });
  await running.close();
  await running.close();
  await assert.rejects(fetch(`${running.url}/healthz`));
});
