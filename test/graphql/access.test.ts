/**
 * Access control through the real HTTP server and graphql-ws: bearer tokens, the role each mutation
 * needs, nothing written on a denial, open reads unless `requireAuth`, revocation, `createdBy`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/server.js';
import { createApiToken, type Role } from '../../src/services/tokens.js';
import type { Db } from '../../src/store/database.js';
import { describeDatabases } from '../support/databases.js';
import { TINY_TRAINING } from '../trainer/support.js';
import { captureLogger, testConfig } from './harness.js';

interface Body {
  data?: any;
  errors?: { message: string; extensions?: { code?: string; requiredRole?: string } }[];
}

const { name: _name, ...tinyHyperparameters } = TINY_TRAINING;

/** Row counts of every table a mutation could write. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<Record<string, string>>`
    select (select count(*) from material) as material, (select count(*) from label) as label,
           (select count(*) from model) as model, (select count(*) from job) as job,
           (select count(*) from api_token) as api_token,
           (select count(*) from api_token where revoked_at is not null) as revoked,
           (select count(*) from model where status = 'CANCELLED') as cancelled,
           (select count(*) from model where is_active) as active`.execute(db);
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
}

describeDatabases('access control', (database) => {
  let open: RunningServer;
  let closed: RunningServer;
  const secrets = {} as Record<Role, string>;
  const { logger } = captureLogger('silent');

  before(async () => {
    const { db } = database();
    for (const role of ['reader', 'curator', 'admin'] as const) secrets[role] = (await createApiToken(db, { name: `${role} token`, role })).secret;
    open = await startServer({ db, config: { ...testConfig, host: '127.0.0.1', port: 0 }, logger });
    closed = await startServer({ db, config: { ...testConfig, host: '127.0.0.1', port: 0, requireAuth: true }, logger });
  });
  after(async () => {
    await open?.close();
    await closed?.close();
  });

  async function gql(server: RunningServer, query: string, secret?: string, variables?: Record<string, unknown>) {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret !== undefined ? { authorization: `Bearer ${secret}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Body };
  }

  function errorCode(body: Body): string | undefined {
    return body.errors?.[0]?.extensions?.code;
  }

  test('each mutation needs its role: lower roles are FORBIDDEN, no token UNAUTHENTICATED, and nothing is written', async () => {
    const { db } = database();
    // Fixtures written as admin: a material, a label to retract, a QUEUED model.
    const material = (await gql(open, 'mutation { addMaterials(inputs: [{composition: "Li3PS4"}]) { id } }', secrets.admin)).body.data.addMaterials[0].id;
    const label = (await gql(open, `mutation { labelMaterial(input: {materialId: "${material}", class: FAST}) { id } }`, secrets.admin)).body.data.labelMaterial.id;
    const model = (await gql(open, 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', secrets.admin, { i: { ...tinyHyperparameters, name: 'm' } })).body.data.trainModel.id;
    const victim = (await createApiToken(db, { name: 'victim', role: 'reader' })).token.id;

    const mutations: { name: string; need: Role; query: string; variables?: Record<string, unknown> }[] = [
      { name: 'addMaterials', need: 'curator', query: 'mutation { addMaterials(inputs: [{composition: "Li2S"}]) { id } }' },
      { name: 'labelMaterial', need: 'curator', query: `mutation { labelMaterial(input: {materialId: "${material}", class: POOR}) { id } }` },
      { name: 'retractLabel', need: 'curator', query: `mutation { retractLabel(id: "${label}") { id } }` },
      { name: 'retireMaterial', need: 'curator', query: `mutation { retireMaterial(id: "${material}", reason: "test") { id } }` },
      { name: 'restoreMaterial', need: 'curator', query: `mutation { restoreMaterial(id: "${material}") { id } }` },
      { name: 'deleteMaterial', need: 'admin', query: `mutation { deleteMaterial(id: "${material}") }` },
      { name: 'setMaterialProperties', need: 'curator', query: `mutation { setMaterialProperties(materialId: "${material}", properties: [{name: "band_gap_ev", value: 2}]) { id } }` },
      { name: 'trainModel', need: 'admin', query: 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', variables: { i: { ...tinyHyperparameters, name: 'n' } } },
      { name: 'activateModel', need: 'admin', query: `mutation { activateModel(id: "${model}") { id } }` },
      { name: 'cancelTraining', need: 'admin', query: `mutation { cancelTraining(id: "${model}") { id } }` },
      { name: 'createApiToken', need: 'admin', query: 'mutation { createApiToken(input: {name: "new", role: READER}) { secret } }' },
      { name: 'revokeApiToken', need: 'admin', query: `mutation { revokeApiToken(id: "${victim}") { id } }` },
    ];
    const before = await rowCounts(db);
    for (const m of mutations) {
      for (const who of [undefined, 'reader', 'curator'] as const) {
        if (who === 'curator' && m.need === 'curator') continue;
        const { status, body } = await gql(open, m.query, who && secrets[who], m.variables);
        const expected = who ? 'FORBIDDEN' : 'UNAUTHENTICATED';
        assert.equal(errorCode(body), expected, `${m.name} as ${who ?? 'anonymous'}: ${JSON.stringify(body)}`);
        assert.equal(status, 200, 'a field-level denial is a GraphQL error, not an HTTP one');
        assert.equal(body.data, null);
        assert.match(body.errors![0]!.message, new RegExp(`Mutation\\.${m.name} needs (an API token with )?role ${m.need}`));
        assert.equal(body.errors![0]!.extensions!.requiredRole, m.need);
      }
    }
    assert.deepEqual(await rowCounts(db), before, 'no denied mutation wrote anything');

    // The roles that may: each mutation passes the role check (it may still fail on its own terms).
    for (const m of mutations) {
      const allowed: Role[] = m.need === 'curator' ? ['curator', 'admin'] : ['admin'];
      for (const who of allowed) {
        const { body } = await gql(open, m.query, secrets[who], m.variables);
        assert.ok(!['FORBIDDEN', 'UNAUTHENTICATED'].includes(errorCode(body) ?? ''), `${m.name} as ${who}: ${JSON.stringify(body)}`);
      }
    }
    const afterAllowed = await rowCounts(db);
    assert.ok(afterAllowed.material > before.material, 'addMaterials by curator and admin');
    assert.equal(afterAllowed.cancelled, 1, 'cancelTraining by admin');
    assert.equal(afterAllowed.api_token, before.api_token + 1, 'createApiToken by admin');
    assert.equal(afterAllowed.revoked, 1, 'revokeApiToken by admin');
  });

  test('reads are open without a token unless requireAuth; then any token works and none is UNAUTHENTICATED (HTTP 401)', async () => {
    const read = '{ materials(first: 1) { totalCount } }';
    assert.equal(errorCode((await gql(open, read)).body), undefined);
    const refused = await gql(closed, read);
    assert.equal(refused.status, 401);
    assert.equal(refused.wwwAuthenticate, 'Bearer');
    assert.equal(errorCode(refused.body), 'UNAUTHENTICATED');
    assert.match(refused.body.errors![0]!.message, /requires an API token with role reader/);
    for (const role of ['reader', 'curator', 'admin'] as const) {
      const { status, body } = await gql(closed, read, secrets[role]);
      assert.equal(status, 200);
      assert.equal(typeof body.data.materials.totalCount, 'number', role);
    }
    // Writes still need their role on a closed server.
    assert.equal(errorCode((await gql(closed, 'mutation { addMaterials(inputs: [{composition: "LiF"}]) { id } }', secrets.reader)).body), 'FORBIDDEN');
  });

  test('an invalid token is UNAUTHENTICATED even for an open read', async () => {
    for (const authorization of [`Bearer isv_${'A'.repeat(43)}`, 'Bearer not-a-token', 'Basic dXNlcjpwdw==', `Bearer ${secrets.reader}x`]) {
      const response = await fetch(open.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: '{ materials(first: 1) { totalCount } }' }),
      });
      const body = (await response.json()) as Body;
      assert.equal(response.status, 401, authorization);
      assert.equal(errorCode(body), 'UNAUTHENTICATED', authorization);
      assert.equal(body.data, undefined);
    }
  });

  test('a revoked token is refused from its next request on', async () => {
    const created = (await gql(open, 'mutation { createApiToken(input: {name: "short-lived", role: CURATOR}) { secret token { id name role revokedAt } } }', secrets.admin)).body.data.createApiToken;
    assert.deepEqual({ ...created.token, id: undefined }, { id: undefined, name: 'short-lived', role: 'CURATOR', revokedAt: null });
    const viewer = (await gql(open, '{ viewer { authenticated name role } }', created.secret)).body.data.viewer;
    assert.deepEqual(viewer, { authenticated: true, name: 'short-lived', role: 'CURATOR' });
    const revoked = (await gql(open, `mutation { revokeApiToken(id: "${created.token.id}") { revokedAt } }`, secrets.admin)).body.data.revokeApiToken;
    assert.ok(revoked.revokedAt);
    const after = await gql(open, '{ viewer { authenticated } }', created.secret);
    assert.equal(errorCode(after.body), 'UNAUTHENTICATED');
    assert.deepEqual((await gql(open, '{ viewer { authenticated name role } }')).body.data.viewer, { authenticated: false, name: null, role: null });
  });

  test('apiTokens: admins only, never a hash or a secret', async () => {
    assert.equal(errorCode((await gql(open, '{ apiTokens { id } }', secrets.curator)).body), 'FORBIDDEN');
    assert.equal(errorCode((await gql(open, '{ apiTokens { id } }')).body), 'UNAUTHENTICATED');
    const { body } = await gql(open, '{ apiTokens(includeRevoked: false) { id name role createdAt createdBy lastUsedAt revokedAt } }', secrets.admin);
    const names = body.data.apiTokens.map((t: { name: string }) => t.name);
    for (const role of ['reader', 'curator', 'admin']) assert.ok(names.includes(`${role} token`));
    assert.ok(body.data.apiTokens.every((t: { revokedAt: unknown }) => t.revokedAt === null));
    const text = JSON.stringify(body);
    for (const secret of Object.values(secrets)) assert.ok(!text.includes(secret));
    const { rows } = await sql<{ token_hash: string }>`select token_hash from api_token`.execute(database().db);
    for (const row of rows) assert.ok(!text.includes(row.token_hash));
    // A bad name is BAD_USER_INPUT; a live duplicate a CONFLICT.
    assert.equal(errorCode((await gql(open, 'mutation { createApiToken(input: {name: "", role: READER}) { secret } }', secrets.admin)).body), 'BAD_USER_INPUT');
    assert.equal(errorCode((await gql(open, 'mutation { createApiToken(input: {name: "reader token", role: READER}) { secret } }', secrets.admin)).body), 'CONFLICT');
  });

  test('createdBy is the name of the token on materials, labels and models', async () => {
    const material = (await gql(open, 'mutation { addMaterials(inputs: [{composition: "Li7La3Zr2O12"}]) { id createdBy } }', secrets.curator)).body.data.addMaterials[0];
    assert.equal(material.createdBy, 'curator token');
    const label = (await gql(open, `mutation { labelMaterial(input: {materialId: "${material.id}", class: FAST}) { id createdBy } }`, secrets.curator)).body.data.labelMaterial;
    assert.equal(label.createdBy, 'curator token');
    const model = (await gql(open, 'mutation($i: TrainModelInput!) { trainModel(input: $i) { createdBy } }', secrets.admin, { i: { ...tinyHyperparameters, name: 'by admin' } })).body.data.trainModel;
    assert.equal(model.createdBy, 'admin token');
    const { rows } = await sql<{ created_by: string }>`select created_by from label where id = ${label.id}`.execute(database().db);
    assert.equal(rows[0]!.created_by, 'curator token');
  });

  test('graphql-ws: connectionParams.authorization authenticates subscriptions and operations', async () => {
    const connect = (server: RunningServer, authorization?: string): Client =>
      createClient({
        url: server.graphqlUrl.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: authorization === undefined ? {} : { authorization },
      });
    const run = (client: Client, query: string) =>
      new Promise<Body>((resolve) => {
        let value: Body = {};
        client.subscribe({ query }, { next: (data) => (value = data as Body), error: (errors) => resolve({ errors: errors as Body['errors'] }), complete: () => resolve(value) });
      });

    // A model that is CANCELLED: trainingProgress sends its state once and completes.
    const model = (await gql(open, 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', secrets.admin, { i: { ...tinyHyperparameters, name: 'ws' } })).body.data.trainModel.id;
    await gql(open, `mutation { cancelTraining(id: "${model}") { id } }`, secrets.admin);
    const subscription = `subscription { trainingProgress(modelId: "${model}") { status } }`;

    const anonymous = connect(closed);
    const bare = connect(closed, secrets.reader);
    const bearer = connect(closed, `Bearer ${secrets.reader}`);
    const invalid = connect(open, `Bearer isv_${'B'.repeat(43)}`);
    const openAnonymous = connect(open);
    try {
      const refused = await run(anonymous, subscription);
      assert.equal(errorCode(refused), 'UNAUTHENTICATED');
      assert.match(refused.errors![0]!.message, /requires an API token/);
      assert.deepEqual((await run(bearer, subscription)).data, { trainingProgress: { status: 'CANCELLED' } });
      assert.deepEqual((await run(bare, subscription)).data, { trainingProgress: { status: 'CANCELLED' } });
      assert.deepEqual((await run(openAnonymous, subscription)).data, { trainingProgress: { status: 'CANCELLED' } });
      assert.equal(errorCode(await run(invalid, subscription)), 'UNAUTHENTICATED');
      // Mutations over the socket need their role too; the refusal carries the same code as over HTTP.
      const denied = await run(bearer, 'mutation { addMaterials(inputs: [{composition: "LiCl"}]) { id } }');
      assert.equal(errorCode(denied), 'FORBIDDEN');
      // graphql-js' own request errors are sent as before.
      const invalidQuery = await run(bearer, '{ nope }');
      assert.match(invalidQuery.errors![0]!.message, /Cannot query field "nope"/);
    } finally {
      await Promise.all([anonymous, bare, bearer, invalid, openAnonymous].map((client) => client.dispose()));
    }
  });
});
