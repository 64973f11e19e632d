/**
 * `/healthz`, `/readyz` and graceful shutdown of the real CLI (`ionsieve start`, a child process on
 * a PGlite data directory seeded from a tiny copy of the shipped data):
 * - SIGTERM while a request is in flight: new connections are refused at once, the in-flight
 *   request completes with 200 (its write is in the database afterwards), the embedded worker
 *   stops, the database closes and the process exits 0;
 * - a second signal during the shutdown ends the process at once (128 + signal number).
 * The in-flight request is held open by its client: it announces its body with
 * `Expect: 100-continue`, the server's `100 Continue` proves the request is being handled, and the
 * body is only sent after the signal — no timing guesses.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { localAdminTokenPath } from '../../src/cli/token.js';
import { openDatabase } from '../../src/store/database.js';
import { startIonsieve, stopAllIonsieve, type IonsieveProcess } from '../support/processes.js';

const DATA = fileURLToPath(new URL('../../data/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-shutdown-'));
const dataDir = join(work, 'pgdata');
const seedDir = join(work, 'seed');

/** A seed folder with 2 OBELiX structures and 1 candidate (the shipped data, cut down), and no model. */
function writeTinySeed(): void {
  const subset = (dir: string, ids: string[]) => {
    const lines = readFileSync(join(DATA, dir, 'manifest.csv'), 'utf8').split('\n');
    mkdirSync(join(seedDir, dir, 'cifs'), { recursive: true });
    const rows = lines.filter((line, i) => i === 0 || ids.some((id) => line.startsWith(`${id},`)));
    assert.equal(rows.length, ids.length + 1, `rows ${ids.join(', ')} in ${dir}/manifest.csv`);
    writeFileSync(join(seedDir, dir, 'manifest.csv'), `${rows.join('\n')}\n`);
    for (const id of ids) copyFileSync(join(DATA, dir, 'cifs', `${id}.cif`), join(seedDir, dir, 'cifs', `${id}.cif`));
  };
  subset('obelix', ['gvd', 'gas']);
  subset('candidates/open_li_pool_v1', ['matcalc_0119']);
}

/** `ionsieve start` on the PGlite directory (DATABASE_URL removed); resolves once it listens. */
async function startCli(): Promise<{ cli: IonsieveProcess; url: string }> {
  const cli = startIonsieve('start', ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0'], {
    env: { IONSIEVE_SEED_DIR: seedDir, DATABASE_URL: undefined },
  });
  const line = await cli.waitForLog('"ionsieve listening"', (l) => l.msg === 'ionsieve listening', 180_000);
  return { cli, url: String(line.url) };
}

before(() => writeTinySeed());
after(async () => {
  await stopAllIonsieve();
  rmSync(work, { recursive: true, force: true });
});

interface HeldRequest {
  req: ClientRequest;
  /** Sends the rest of the body; the request then completes. */
  finish(): void;
  response: Promise<{ status: number; body: string }>;
}

/** A POST /graphql whose server-side handling has begun (100 Continue received) but whose body is not sent yet. */
async function holdGraphQLRequest(baseUrl: string, body: unknown, token?: string): Promise<HeldRequest> {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL('/graphql', baseUrl);
  const req = request(url, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': payload.length,
      expect: '100-continue',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  // Keep an early rejection from being reported as unhandled before the test awaits it.
  response.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    req.once('error', reject);
    req.flushHeaders();
  });
  return { req, response, finish: () => req.end(payload) };
}

/** Polls until a new TCP connection to the server is refused. */
async function untilRefused(baseUrl: string, timeoutMs = 60_000): Promise<Error> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(5_000) });
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause;
      if (cause?.code === 'ECONNREFUSED') return error as Error;
    }
    if (Date.now() > end) throw new Error('the server still accepts new connections');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('/healthz and /readyz answer on the running CLI', { timeout: 300_000 }, async () => {
  const { cli, url } = await startCli();
  const health = await fetch(new URL('/healthz', url));
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(new URL('/readyz', url));
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  assert.equal((await cli.stop('SIGTERM', 120_000)).code, 0, cli.tail(50));
});

test('SIGTERM: new connections refused, the in-flight request completes with 200, worker and database closed, exit 0', { timeout: 300_000 }, async () => {
  const { cli, url } = await startCli();
  await cli.waitForLog('the embedded worker', (l) => l.msg === 'worker started');

  // `start` made the embedded default's admin token beside the data directory.
  const admin = readFileSync(localAdminTokenPath(dataDir), 'utf8').trim();
  const held = await holdGraphQLRequest(
    url,
    {
      query: 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id reducedFormula } }',
      variables: { inputs: [{ composition: 'Li3PS4', name: 'in flight at shutdown' }] },
    },
    admin,
  );
  const stopped = cli.stop('SIGTERM', 120_000);
  await cli.waitForLog('"shutting down"', (l) => l.msg.startsWith('shutting down'));
  await untilRefused(url);
  assert.equal(cli.exit, null, 'the process waits for the in-flight request');

  held.finish();
  const { status, body } = await held.response;
  assert.equal(status, 200, body);
  const result = JSON.parse(body);
  assert.equal(result.errors, undefined, body);
  assert.equal(result.data.addMaterials[0].reducedFormula, 'Li3PS4');

  const { code, signal } = await stopped;
  assert.equal(signal, null, cli.tail(50));
  assert.equal(code, 0, cli.tail(50));
  const said = (msg: string) => assert.ok(cli.logs.some((l) => l.msg === msg), `logged "${msg}":\n${cli.tail(50)}`);
  said('worker stopped');
  said('GraphQL server closed');
  said('ionsieve stopped: database closed');
  assert.ok(!cli.logs.some((l) => l.level >= 50), `no error logged:\n${cli.tail(50)}`);

  // The request that was in flight at the signal was committed before the database closed.
  const opened = await openDatabase({ dataDir });
  try {
    const rows = await opened.db.selectFrom('material').select('id').where('name', '=', 'in flight at shutdown').execute();
    assert.deepEqual(rows.map((r) => String(r.id)), [String(result.data.addMaterials[0].id)]);
  } finally {
    await opened.close();
  }
});

test('a second signal during the shutdown exits at once', { timeout: 300_000 }, async () => {
  const { cli, url } = await startCli();
  // An in-flight request that never finishes keeps the graceful shutdown waiting.
  const held = await holdGraphQLRequest(url, { query: '{ materials { totalCount } }' });
  const first = cli.stop('SIGINT', 120_000);
  await cli.waitForLog('"shutting down"', (l) => l.msg.startsWith('shutting down'));
  const { code } = await cli.stop('SIGINT', 120_000);
  await first;
  assert.equal(code, 130, cli.tail(50)); // 128 + SIGINT
  assert.ok(cli.logs.some((l) => l.msg.startsWith('second signal')), cli.tail(50));
  await assert.rejects(held.response); // its connection died with the process
  held.req.destroy();
});
