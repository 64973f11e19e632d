/**
 * Limits (issue 6), proved through the real HTTP server: operation depth, cost, aliases and tokens
 * (HTTP and graphql-ws), introspection and field suggestions, page sizes and list arguments, body,
 * structure and text sizes, per-client rate limits, and masked errors whose request id leads to the
 * real cause in the logs. The dashboard's own documents stay well within the defaults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse, type GraphQLSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { loadConfig, type Config, type Limits } from '../../src/config.js';
import { buildIonsieveSchema } from '../../src/graphql/build-schema.js';
import { checkOperation, operationCost } from '../../src/graphql/limits.js';
import { MAX_PAGE_SIZE } from '../../src/graphql/pagination.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createApiToken } from '../../src/services/tokens.js';
import * as dashboard from '../../web/src/api/queries.js';
import { describeDatabases } from '../support/databases.js';
import { captureLogger, fixture, testConfig } from './harness.js';

const DEFAULTS = loadConfig({}).limits;
let schemaPromise: Promise<GraphQLSchema> | undefined;
const schema = () => (schemaPromise ??= buildIonsieveSchema());

function configWith(limits: Partial<Limits>, rest: Partial<Config> = {}): Config {
  return { ...testConfig, host: '127.0.0.1', port: 0, ...rest, limits: { ...testConfig.limits, ...limits } };
}

interface Posted {
  status: number;
  headers: Headers;
  body: any;
}

/** API token secrets (README "Access control"): `curator` writes; `a`, `b`, `c` are separate rate-limit clients. */
const tokens: Record<'curator' | 'a' | 'b' | 'c', string> = { curator: '', a: '', b: '', c: '' };

/** Mutations go with the curator token (writes need one); other requests carry only `headers`. */
async function post(server: RunningServer, body: unknown, headers: Record<string, string> = {}): Promise<Posted> {
  const isMutation = typeof body === 'object' && /^\s*mutation\b/.test(String((body as { query?: unknown }).query ?? ''));
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(isMutation ? { authorization: `Bearer ${tokens.curator}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Runs one operation over graphql-ws; resolves to the last result, or the error list the server sent. */
async function overWebSocket(server: RunningServer, query: string, variables?: Record<string, unknown>, connectionParams?: Record<string, unknown>): Promise<any> {
  const client = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams });
  try {
    return await new Promise<any>((resolve) => {
      let value: unknown;
      client.subscribe({ query, variables }, { next: (data) => (value = data), error: (errors) => resolve({ errors }), complete: () => resolve(value) });
    });
  } finally {
    await client.dispose();
  }
}

/** `{ materials { nodes { similar { material { similar { … } } } } } }` nested `levels` times. */
function nestedSimilar(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `similar(k: 2) { material { ${inner} } }`;
  return `{ materials(first: 1) { nodes { ${inner} } } }`;
}

describe('operation limits without a server', () => {
  test('every dashboard document, at the largest variables it sends, is valid and costs well under the default limit', async () => {
    const dashboardVariables = { first: MAX_PAGE_SIZE, nearestK: 3, k: 10, id: '1', label: 'FAST', name: 'Model', modelId: '1' };
    // The documents built from the schema, with the selections the dashboard builds for this schema.
    const built: Record<string, string> = {
      modelDocument: dashboard.modelDocument(''),
      trainModelDocument: dashboard.trainModelDocument('EUCLIDEAN', 'GROUP_KFOLD'),
      trainingProgressDocument: dashboard.trainingProgressDocument('{ modelId status progress { epoch maxEpochs trainLoss } }'),
    };
    const documents = [...Object.entries(dashboard), ...Object.entries(built)].filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && /\b(query|mutation|subscription)\b/.test(entry[1]),
    );
    assert.ok(documents.length >= 20, `found ${documents.length} documents`);
    const costs: Record<string, number> = {};
    for (const [name, text] of documents) {
      const checked = checkOperation(DEFAULTS, await schema(), { query: text, variables: dashboardVariables });
      // Only limit errors matter here (validity against the schema: test/web/dashboard-documents.test.ts).
      const limitErrors = 'errors' in checked ? checked.errors.filter((e) => e.extensions.limit || /tokens/.test(e.message)) : [];
      assert.deepEqual(limitErrors, [], name);
      costs[name] = operationCost(await schema(), parse(text), null, dashboardVariables);
    }
    // The heaviest is a 200-row candidates page with 3 neighbours each: 200 × 60 (provenance and charge balance per row).
    assert.equal(costs.SCREEN, 12_000);
    for (const [name, cost] of Object.entries(costs)) assert.ok(cost <= DEFAULTS.maxCost / 2, `${name} costs ${cost}`);
  });

  test('operationCost multiplies by first and k from literals, variables and defaults, and prices a fragment once', async () => {
    const s = await schema();
    const cost = (query: string, variables?: Record<string, unknown>) => operationCost(s, parse(query), null, variables);
    assert.equal(cost('{ materials(first: 10) { totalCount } }'), 10 * (1 + 1));
    assert.equal(cost('query($n: Int!) { materials(first: $n) { totalCount } }', { n: 50 }), 50 * 2);
    assert.equal(cost('{ materials { totalCount } }'), 20 * 2, 'the default page size of 20');
    // nodes × similar(k) × material
    assert.equal(cost('{ materials(first: 10) { nodes { similar(k: 7) { material { id } } } } }'), 10 * (1 + 1 + 7 * (1 + 2)));
    assert.equal(cost('query($k: Int!) { similarMaterials(input: { materialId: "1", k: $k }) { distance } }', { k: 40 }), 40 * 2);
    assert.equal(cost('{ similarMaterials(input: { materialId: "1" }) { distance } }'), 10 * 2, 'input.k defaults to 10');
    // A fragment used 2^20 times through nested spreads is priced in linear time (and costs 2^20).
    const fragments = ['fragment F0 on Material { id }'];
    for (let i = 1; i <= 20; i++) fragments.push(`fragment F${i} on Material { ...F${i - 1} ...F${i - 1} }`);
    assert.equal(cost(`{ material(id: "1") { ...F20 } } ${fragments.join(' ')}`), 1 + 2 ** 20);
  });
});

describeDatabases('limits over HTTP', (database) => {
  const captured = captureLogger();
  let server: RunningServer;
  let closed: RunningServer;
  let limited: RunningServer;
  let proxied: RunningServer;

  before(async () => {
    const { db } = database();
    const logger = captured.logger;
    const s = await schema();
    for (const name of ['curator', 'a', 'b', 'c'] as const) {
      tokens[name] = (await createApiToken(db, { name: `limits ${name}`, role: name === 'curator' ? 'curator' : 'reader' })).secret;
    }
    [server, closed, limited, proxied] = await Promise.all([
      startServer({ db, schema: s, logger, config: configWith({ maxCost: 5000, maxBodyBytes: 64 * 1024 }, { maxSites: 4, maxTextBytes: 4096, maxBatchSize: 2 }) }),
      startServer({ db, schema: s, logger, config: configWith({ introspection: false }) }),
      startServer({ db, schema: s, logger, config: configWith({ rateLimitPoints: 3, rateLimitDurationSeconds: 60 }) }),
      startServer({ db, schema: s, logger, config: configWith({ rateLimitPoints: 3, rateLimitDurationSeconds: 60 }, { trustProxy: 'loopback' }) }),
    ]);
  });
  after(async () => {
    await Promise.all([server?.close(), closed?.close(), limited?.close(), proxied?.close()]);
  });

  test('depth, aliases, tokens and cost over the limit: 400 with a message naming the limit, over HTTP and graphql-ws', async () => {
    const depth = await post(server, { query: nestedSimilar(4) }); // materials nodes (similar material)×4 id = 11
    assert.equal(depth.status, 400);
    assert.equal(depth.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(depth.body.errors[0].extensions.limit, 'depth');
    assert.match(depth.body.errors[0].message, new RegExp(`depth limit of ${DEFAULTS.maxDepth} exceeded, found 11`));
    assert.equal((await post(server, { query: nestedSimilar(2) })).status, 200, 'depth 7 is allowed');

    const aliases = Array.from({ length: DEFAULTS.maxAliases + 1 }, (_, i) => `a${i}: materials(first: 1) { totalCount }`).join(' ');
    const alias = await post(server, { query: `{ ${aliases} }` });
    assert.equal(alias.status, 400);
    assert.equal(alias.body.errors[0].extensions.limit, 'aliases');
    assert.match(alias.body.errors[0].message, new RegExp(`Aliases limit of ${DEFAULTS.maxAliases} exceeded`));

    const tokens = await post(server, { query: `{ ${Array.from({ length: DEFAULTS.maxTokens }, () => '__typename').join(' ')} }` });
    assert.equal(tokens.status, 400);
    assert.equal(tokens.body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
    assert.match(tokens.body.errors[0].message, new RegExp(`more tha[nt] ${DEFAULTS.maxTokens} tokens`));

    // A variable page size cannot hide the cost (this server's maxCost is 5000).
    const costly = 'query($n: Int!) { materials(first: $n) { nodes { id formula similar(k: 20) { distance } } } }';
    const cost = await post(server, { query: costly, variables: { n: 200 } });
    assert.equal(cost.status, 400);
    assert.equal(cost.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(cost.body.errors[0].extensions.limit, 'cost');
    assert.equal(cost.body.errors[0].extensions.maxCost, 5000);
    assert.equal(cost.body.errors[0].extensions.http, undefined);
    assert.match(cost.body.errors[0].message, /Query cost limit of 5000 exceeded, found 8800/);
    assert.equal((await post(server, { query: costly, variables: { n: 10 } })).status, 200);

    const overWs = await overWebSocket(server, costly, { n: 200 });
    assert.equal(overWs.errors[0].extensions.limit, 'cost');
    assert.equal((await overWebSocket(server, nestedSimilar(4))).errors[0].extensions.limit, 'depth');
    assert.match((await overWebSocket(server, `{ ${aliases} }`)).errors[0].message, /Aliases limit/);
    assert.match((await overWebSocket(server, `{ ${'__typename '.repeat(DEFAULTS.maxTokens)}}`)).errors[0].message, /more tha[nt] 1000 tokens/);
    const fine = await overWebSocket(server, costly, { n: 10 });
    assert.equal(fine.errors, undefined, JSON.stringify(fine.errors));
  });

  test('introspection and field suggestions: on by default, both off when introspection is off (HTTP and graphql-ws)', async () => {
    const schemaQuery = '{ __schema { queryType { name } } }';
    assert.deepEqual((await post(server, { query: schemaQuery })).body.data, { __schema: { queryType: { name: 'Query' } } });
    const typo = '{ materials(first: 1) { totalCont } }';
    assert.match((await post(server, { query: typo })).body.errors[0].message, /Did you mean "totalCount"\?/);

    const refused = await post(closed, { query: schemaQuery });
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0].message, /introspection is not allowed/);
    assert.equal((await post(closed, { query: '{ __type(name: "Material") { name } }' })).status, 400);
    const hidden = await post(closed, { query: typo });
    assert.equal(hidden.status, 400);
    assert.match(hidden.body.errors[0].message, /Cannot query field "totalCont" on type "MaterialConnection"/);
    assert.doesNotMatch(JSON.stringify(hidden.body), /totalCount|Did you mean/);
    assert.equal((await post(closed, { query: '{ materials(first: 1) { __typename totalCount } }' })).status, 200);

    assert.match((await overWebSocket(closed, schemaQuery)).errors[0].message, /introspection/i);
    const wsTypo = await overWebSocket(closed, typo);
    assert.match(wsTypo.errors[0].message, /Cannot query field "totalCont"/);
    assert.doesNotMatch(JSON.stringify(wsTypo), /Did you mean/);
    assert.match((await overWebSocket(server, typo)).errors[0].message, /Did you mean/);

    // Bad variables name the problem without suggesting the right name.
    const badVariable = { query: 'query($f: MaterialFilter) { materials(filter: $f) { totalCount } }', variables: { f: { lable: 'FAST' } } };
    assert.match((await post(server, badVariable)).body.errors[0].message, /Did you mean "label"\?/);
    for (const refusedVariable of [(await post(closed, badVariable)).body, await overWebSocket(closed, badVariable.query, badVariable.variables)]) {
      assert.equal(refusedVariable.errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.match(refusedVariable.errors[0].message, /Field "lable" is not defined by type "MaterialFilter"\.$/);
    }
  });

  test('every list argument has an upper bound: page size, k, element filters, batch size', async () => {
    const cases: [string, RegExp][] = [
      [`{ materials(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }`, /first must be between 1 and 200, got 201/],
      [`{ screen(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }`, /first must be between 1 and 200/],
      ['{ labels(materialId: "1", first: 201) { totalCount } }', /first must be between 1 and 200/],
      ['{ similarMaterials(input: { materialId: "1", k: 101 }) { distance } }', /k must be an integer in 1\.\.100, got 101/],
      [`{ materials(filter: { elementsHasAll: [${'"Li", '.repeat(119)}] }) { totalCount } }`, /elementsHasAll lists 119 symbols, more than the limit of 118/],
      [`{ materials(filter: { elementsHasOnly: [${'"O", '.repeat(119)}] }) { totalCount } }`, /elementsHasOnly lists 119 symbols/],
    ];
    for (const [query, message] of cases) {
      const response = await post(server, { query });
      assert.equal(response.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${query.slice(0, 60)}: ${JSON.stringify(response.body)}`);
      assert.match(response.body.errors[0].message, message);
    }
    const batch = await post(server, {
      query: 'mutation { addMaterials(inputs: [{composition: "LiCl"}, {composition: "NaCl"}, {composition: "KCl"}]) { id } }',
    });
    assert.equal(batch.body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(batch.body.errors[0].message, /at most 2 materials per call, got 3/);

    // similar(k) and nearestFast(k) on a stored material (k is checked before any model is needed).
    const added = await post(server, { query: 'mutation { addMaterials(inputs: [{composition: "Li2O"}]) { id } }' });
    const id = added.body.data.addMaterials[0].id;
    const similar = await post(server, { query: `{ material(id: "${id}") { similar(k: 101) { distance } } }` });
    assert.equal(similar.body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(similar.body.errors[0].message, /k must be an integer in 1\.\.100/);
  });

  test('structure size and text size: BAD_USER_INPUT naming the limit, nothing written', async () => {
    const count = async () => (await post(server, { query: '{ materials(first: 1) { totalCount } }' })).body.data.materials.totalCount as number;
    const before = await count();
    const add = (text: string) =>
      post(server, {
        query: 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id } }',
        variables: { inputs: [{ composition: 'LiBr' }, { structure: { format: 'CIF', text } }] },
      });
    const sites = await add(fixture('licl-rocksalt-p1.cif')); // 8 sites; this server allows 4
    assert.equal(sites.body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(sites.body.errors[0].message, /too many sites: 8 > maxSites 4/);
    const text = await add(`${fixture('licl-rocksalt-p1.cif')}\n#${'x'.repeat(5000)}\n`);
    assert.equal(text.body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.match(text.body.errors[0].message, /more than the limit of 4096/);
    assert.equal(await count(), before, 'nothing written (the valid LiBr of each batch included)');
  });

  test('a body over the limit (413) and malformed JSON (400): GraphQL-shaped errors carrying the request id', async () => {
    const tooLarge = await post(server, { query: `{ materials { totalCount } } # ${'x'.repeat(64 * 1024)}` }, { 'x-request-id': 'too-large-1' });
    assert.equal(tooLarge.status, 413);
    assert.deepEqual(tooLarge.body, {
      errors: [{ message: 'request body larger than the limit of 65536 bytes', extensions: { code: 'BAD_REQUEST', requestId: 'too-large-1' } }],
    });
    const malformed = await post(server, '{"query": ', { 'x-request-id': 'malformed-1' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body.errors[0].extensions, { code: 'BAD_REQUEST', requestId: 'malformed-1' });
  });

  test('rate limit per bearer token, else per IP: 429 with Retry-After and RATE_LIMITED; /healthz is not counted', async () => {
    const query = { query: '{ materials(first: 1) { totalCount } }' };
    for (let i = 0; i < 3; i++) assert.equal((await post(limited, query)).status, 200);
    const refused = await post(limited, query, { 'x-request-id': 'over-the-limit' });
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.deepEqual(refused.body, {
      errors: [
        {
          message: `Too many requests: try again in ${retryAfter} s`,
          extensions: { code: 'RATE_LIMITED', requestId: 'over-the-limit', retryAfterSeconds: retryAfter },
        },
      ],
    });
    // Another client (a bearer token) has its own budget; the same token shares one.
    for (let i = 0; i < 3; i++) assert.equal((await post(limited, query, { authorization: `Bearer ${tokens.a}` })).status, 200);
    assert.equal((await post(limited, query, { authorization: `bearer ${tokens.a}` })).status, 429);
    assert.equal((await post(limited, query, { authorization: `Bearer ${tokens.b}` })).status, 200);
    assert.equal((await fetch(`${limited.url}/healthz`)).status, 200);
    // graphql-ws operations draw on the same budget (the token from connectionParams).
    const overWs = await overWebSocket(limited, query.query, undefined, { authorization: `Bearer ${tokens.a}` });
    assert.equal(overWs.errors[0].extensions.code, 'RATE_LIMITED');
    const okWs = await overWebSocket(limited, query.query, undefined, { authorization: `Bearer ${tokens.c}` });
    assert.equal(okWs.errors, undefined);
    // Without a trusted proxy, X-Forwarded-For cannot buy an exhausted client a new budget.
    assert.equal((await post(limited, query, { 'x-forwarded-for': '10.9.9.9' })).status, 429);
  });

  test('made-up tokens count against their IP: after the budget of failures, every token from that IP is refused', async () => {
    const query = { query: '{ materials(first: 1) { totalCount } }' };
    const from = (ip: string, token?: string) => ({ 'x-forwarded-for': ip, ...(token ? { authorization: `Bearer ${token}` } : {}) });
    for (let i = 0; i < 3; i++) {
      const fake = await post(proxied, query, from('10.0.0.1', `isv_made-up-${i}`));
      assert.equal(fake.status, 401, 'an unknown token is UNAUTHENTICATED');
    }
    const refused = await post(proxied, query, from('10.0.0.1', tokens.a));
    assert.equal(refused.status, 429, 'even a valid token, from an IP that spent its failures');
    assert.equal(refused.body.errors[0].extensions.code, 'RATE_LIMITED');
    assert.equal((await post(proxied, query, from('10.0.0.2', tokens.a))).status, 200, 'the same token from another IP');
    // Behind a trusted proxy, each forwarded client IP has its own anonymous budget.
    for (let i = 0; i < 3; i++) assert.equal((await post(proxied, query, from('10.0.0.3'))).status, 200);
    assert.equal((await post(proxied, query, from('10.0.0.3'))).status, 429);
    assert.equal((await post(proxied, query, from('10.0.0.4'))).status, 200);
  });

  test('a database failure: generic INTERNAL_SERVER_ERROR with a request id; the log has that id and the real cause', async () => {
    const { db } = database();
    await sql`alter table material rename to material_away`.execute(db);
    try {
      // A query not asked before: a renamed table is DDL, which the response cache does not see.
      const failed = await post(server, { query: '{ materials(first: 1) { totalCount __typename } }' }, { 'x-request-id': 'db-failure-1' });
      assert.equal(failed.status, 200);
      assert.deepEqual(failed.body.errors, [
        {
          message: 'Internal server error',
          locations: [{ line: 1, column: 3 }],
          path: ['materials'],
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'db-failure-1' },
        },
      ]);
      assert.doesNotMatch(JSON.stringify(failed.body), /material_away|relation|select|stack|\.ts:/i);
      const logged = captured.lines.find((line) => line.requestId === 'db-failure-1' && line.level === 50);
      assert.ok(logged, 'an error line under the request id');
      assert.match(String((logged.err as { message?: string }).message), /relation "material" does not exist/);
      assert.ok((logged.err as { stack?: string }).stack, 'the stack is logged');
    } finally {
      await sql`alter table material_away rename to material`.execute(db);
    }
  });
});
