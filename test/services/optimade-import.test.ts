/**
 * OPTIMADE import against a provider on loopback (test/support/optimade-server.ts): paging,
 * retries (429 with Retry-After, 503), resuming an interrupted import without duplicates, bad
 * entries skipped and reported, and the host allow-list (base URL, links.next, redirects). Also the
 * GraphQL mutation through a worker.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { DEFAULT_OPTIMADE_HOSTS, loadConfig } from '../../src/config.js';
import { BadInputError } from '../../src/errors.js';
import { getJob } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';
import { createContext, createApolloServer } from '../../src/server.js';
import { checkOptimadeUrl, OptimadeUnavailableError, retryAfterMs } from '../../src/services/optimade-client.js';
import {
  claimOptimadeImport,
  IMPORT_OPTIMADE_TASK,
  runOptimadeImport,
  startOptimadeImport,
  type ImportOptimadeInput,
  type OptimadeImportProgress,
} from '../../src/services/optimade-import.js';
import { listMaterials } from '../../src/services/materials.js';
import type { Db } from '../../src/store/database.js';
import { createImportOptimadeTask } from '../../trainer/tasks/import-optimade.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { startOptimadeServer, syntheticEntry, type OptimadeFixtureServer } from '../support/optimade-server.js';
import { tokenPrincipal } from '../graphql/harness.js';

const silent = pino({ level: 'silent' });
/** Retries without real waiting (the fixture's Retry-After is 0). */
const FAST_HTTP = { baseDelayMs: 1, maxDelayMs: 20, maxRetries: 3 };
const WORKER = 'test-worker';

test('the allow-list: host, host:port and the scheme default port; bad URLs are refused with the field', () => {
  const hosts = ['optimade.example.org', '127.0.0.1:8080', '[::1]:9000'];
  assert.equal(checkOptimadeUrl('https://optimade.example.org/v1/structures', hosts, 'baseUrl').host, 'optimade.example.org');
  assert.equal(checkOptimadeUrl('http://optimade.example.org', hosts, 'baseUrl').host, 'optimade.example.org');
  assert.equal(checkOptimadeUrl('http://127.0.0.1:8080/x', hosts, 'baseUrl').port, '8080');
  assert.equal(checkOptimadeUrl('http://[::1]:9000/x', hosts, 'baseUrl').port, '9000');
  const refused = (url: string, pattern: RegExp) =>
    assert.throws(() => checkOptimadeUrl(url, hosts, 'baseUrl'), (error: unknown) => error instanceof BadInputError && pattern.test(error.message));
  refused('https://optimade.example.org:8443/', /host optimade\.example\.org:8443 is not on the OPTIMADE allow-list/);
  refused('http://127.0.0.1/', /host 127\.0\.0\.1 is not on the OPTIMADE allow-list/);
  refused('http://127.0.0.1:8081/', /127\.0\.0\.1:8081/);
  refused('http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is not on the OPTIMADE allow-list \(IONSIEVE_OPTIMADE_HOSTS; allowed: optimade\.example\.org/);
  refused('http://optimade.example.org.evil.test/', /not on the OPTIMADE allow-list/);
  refused('file:///etc/passwd', /baseUrl: only http and https/);
  refused('not a url', /baseUrl: "not a url" is not a URL/);
  refused('https://user:pw@optimade.example.org/', /credentials/);
});

test('IONSIEVE_OPTIMADE_HOSTS: default list, own list, none, and a bad entry refused at startup', () => {
  assert.deepEqual(loadConfig({}).optimadeHosts, DEFAULT_OPTIMADE_HOSTS);
  assert.ok(DEFAULT_OPTIMADE_HOSTS.includes('optimade.materialsproject.org'));
  assert.deepEqual(loadConfig({ IONSIEVE_OPTIMADE_HOSTS: 'A.example.org, 127.0.0.1:8080,[::1]:9000' }).optimadeHosts, ['a.example.org', '127.0.0.1:8080', '[::1]:9000']);
  assert.deepEqual(loadConfig({ IONSIEVE_OPTIMADE_HOSTS: 'none' }).optimadeHosts, []);
  assert.throws(() => loadConfig({ IONSIEVE_OPTIMADE_HOSTS: 'https://a.example.org/' }), /IONSIEVE_OPTIMADE_HOSTS: "https:\/\/a.example.org\/" is not host or host:port/);
  assert.throws(() => loadConfig({ IONSIEVE_OPTIMADE_HOSTS: 'a.example.org:99999' }), /IONSIEVE_OPTIMADE_HOSTS/);
});

test('Retry-After: delta seconds or an HTTP date', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs('soon'), null);
  assert.equal(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1)), 10_000);
});

async function materialCount(db: Db): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from material`.execute(db);
  return Number(rows[0]!.n);
}

describeDatabases('OPTIMADE import from a loopback provider', (database) => {
  let server: OptimadeFixtureServer | undefined;
  beforeEach(async () => {
    await resetDatabase(database().db);
    await server?.close();
    server = undefined;
  });
  after(async () => {
    await server?.close();
  });

  /** Creates the job (held by WORKER) and runs it here. */
  async function importFrom(
    fixture: OptimadeFixtureServer,
    input: Partial<ImportOptimadeInput> = {},
    opts: { signal?: AbortSignal; onProgress?: (p: OptimadeImportProgress) => void; hosts?: string[] } = {},
  ) {
    const { db } = database();
    const hosts = opts.hosts ?? [fixture.host];
    const job = await startOptimadeImport(db, { baseUrl: fixture.baseUrl, ...input }, { allowedHosts: hosts, actor: 'importer', runHere: { workerId: WORKER, leaseMs: 60_000 } });
    const run = runOptimadeImport(db, job.payload, null, {
      jobId: job.id,
      workerId: WORKER,
      allowedHosts: hosts,
      maxSites: 2000,
      maxTextBytes: 5 * 1024 * 1024,
      http: FAST_HTTP,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    return { job, run };
  }

  test('pages through links.next: every entry stored once, with provenance and the provider properties with units', async () => {
    const { db } = database();
    server = await startOptimadeServer({ entries: { count: 25, make: (i) => syntheticEntry(i) } });
    const seen: number[] = [];
    const { job, run } = await importFrom(server, { filter: 'elements HAS "Li"', pageLimit: 10 }, { onProgress: (p) => seen.push(p.received) });
    const result = await run;
    assert.deepEqual(
      { pages: result.pages, received: result.received, imported: result.imported, duplicates: result.duplicates, skipped: result.skipped, dataReturned: result.dataReturned, provider: result.provider, phase: result.phase, nextUrl: result.nextUrl },
      { pages: 3, received: 25, imported: 25, duplicates: 0, skipped: 0, dataReturned: 25, provider: 'tst', phase: 'DONE', nextUrl: null },
    );
    assert.deepEqual(seen, [10, 20, 25], 'progress after every page');
    assert.deepEqual(server.requests.filter((r) => r.url.startsWith('/v1/structures')).map((r) => [r.offset, r.filter]), [
      [0, 'elements HAS "Li"'],
      [10, 'elements HAS "Li"'],
      [20, 'elements HAS "Li"'],
    ]);
    assert.equal(server.requests[0]!.url, '/v1/info/structures');
    assert.equal(await materialCount(db), 25);
    const page = await listMaterials(db, {}, { first: 100 });
    const first = page.items.find((m) => m.sourceId === 'tst-7')!;
    assert.equal(first.source, 'optimade:tst');
    assert.equal(first.sourceUrl, `${server.baseUrl}/v1/structures/tst-7`);
    assert.equal(first.name, syntheticEntry(7).attributes ? (syntheticEntry(7).attributes as Record<string, unknown>).chemical_formula_reduced : null);
    assert.equal(first.createdBy, 'importer');
    assert.deepEqual(
      { value: first.properties._tst_band_gap!.value, unit: first.properties._tst_band_gap!.unit, source: first.properties._tst_band_gap!.source },
      { value: 0.7, unit: 'eV', source: 'OPTIMADE tst entry tst-7' },
    );
    assert.equal(first.properties._tst_energy_above_hull!.unit, 'eV/atom');
    // The job row holds the same counts (written with each page).
    const stored = await getJob(db, job.id);
    assert.equal((stored!.progress as OptimadeImportProgress).imported, 25);
    assert.equal((stored!.progress as OptimadeImportProgress).phase, 'DONE');
  });

  test('retries 429 (Retry-After) and 503 with backoff, then goes on; gives up after its retries', async () => {
    const { db } = database();
    let structuresRequests = 0;
    server = await startOptimadeServer({
      entries: { count: 15, make: (i) => syntheticEntry(i) },
      intercept: (request) => {
        if (!request.url.startsWith('/v1/structures')) return undefined;
        structuresRequests++;
        if (structuresRequests === 1) return { status: 429, headers: { 'retry-after': '0' }, body: { errors: [{ detail: 'slow down' }] } };
        if (structuresRequests === 3) return { status: 503, body: 'maintenance' };
        return undefined;
      },
    });
    const { run } = await importFrom(server, { pageLimit: 10 });
    const result = await run;
    assert.equal(result.retries, 2);
    assert.equal(result.imported, 15);
    assert.equal(await materialCount(db), 15);
    assert.deepEqual(server.requests.filter((r) => r.url.startsWith('/v1/structures')).map((r) => r.offset), [0, 0, 10, 10]);

    await resetDatabase(db);
    await server.close();
    server = await startOptimadeServer({
      entries: { count: 5, make: (i) => syntheticEntry(i) },
      intercept: (request) => (request.url.startsWith('/v1/structures') ? { status: 503, body: 'down' } : undefined),
    });
    const down = await importFrom(server);
    await assert.rejects(down.run, (error: unknown) => error instanceof OptimadeUnavailableError && /HTTP 503 after 4 tries/.test(error.message));
    assert.equal(await materialCount(db), 0);
  });

  test('a filter that matches nothing: one empty page, done', async () => {
    server = await startOptimadeServer({ entries: [] });
    const { run } = await importFrom(server, { filter: 'elements HAS "Og"' });
    const result = await run;
    assert.deepEqual({ pages: result.pages, received: result.received, imported: result.imported, dataReturned: result.dataReturned, phase: result.phase }, { pages: 1, received: 0, imported: 0, dataReturned: 0, phase: 'DONE' });
  });

  test('a 4xx answer is not retried: the provider\'s error detail is reported', async () => {
    server = await startOptimadeServer({
      entries: [],
      intercept: (request) => (request.url.startsWith('/v1/structures') ? { status: 400, body: { errors: [{ status: '400', detail: 'Unknown property: foo' }] } } : undefined),
    });
    const { run } = await importFrom(server, { filter: 'foo=1' });
    await assert.rejects(run, (error: unknown) => error instanceof BadInputError && /answered 400: Unknown property: foo/.test(error.message));
  });

  test('an interrupted import resumes at its stored cursor without duplicates; a re-run stores nothing again', async () => {
    const { db } = database();
    server = await startOptimadeServer({ entries: { count: 30, make: (i) => syntheticEntry(i) } });
    const controller = new AbortController();
    const { job, run } = await importFrom(server, { pageLimit: 10 }, { signal: controller.signal, onProgress: (p) => p.pages === 1 && controller.abort(new Error('killed')) });
    await assert.rejects(run, /killed/);
    assert.equal(await materialCount(db), 10, 'the first page was committed');
    const stopped = (await getJob(db, job.id))!;
    assert.equal(stopped.status, 'RUNNING');
    const cursor = stopped.progress as OptimadeImportProgress;
    assert.equal(cursor.pages, 1);
    assert.match(cursor.nextUrl!, /page_offset=10/);

    // The worker died: its lease runs out, and another worker takes the job and continues it.
    await sql`update job set locked_until = now() - interval '1 second' where id = ${job.id}`.execute(db);
    const resumed = await claimOptimadeImport(db, job.id, 'second-worker', 60_000);
    assert.ok(resumed);
    const requestsBefore = server.requests.length;
    const result = await runOptimadeImport(db, resumed.payload, resumed.progress as OptimadeImportProgress, {
      jobId: job.id,
      workerId: 'second-worker',
      allowedHosts: [server.host],
      maxSites: 2000,
      maxTextBytes: 5 * 1024 * 1024,
      http: FAST_HTTP,
    });
    // The resumed run starts at the cursor: page 1 is never fetched again. (Page 2 may have been
    // requested twice: the interrupted run had asked for it ahead while writing page 1.)
    const offsets = server.requests.filter((r) => r.url.startsWith('/v1/structures')).map((r) => r.offset);
    assert.deepEqual(offsets.filter((o) => o === 0), [0]);
    assert.deepEqual([...new Set(server.requests.slice(requestsBefore).filter((r) => r.url.startsWith('/v1/structures')).map((r) => r.offset))].filter((o) => o !== 10), [20]);
    assert.deepEqual({ pages: result.pages, received: result.received, imported: result.imported, duplicates: result.duplicates }, { pages: 3, received: 30, imported: 30, duplicates: 0 });
    assert.equal(await materialCount(db), 30);
    const { rows } = await sql<{ n: string }>`select count(distinct source_id) as n from material where source = 'optimade:tst'`.execute(db);
    assert.equal(Number(rows[0]!.n), 30);

    // The first worker comes back: the job is no longer its own, so it cannot write.
    await assert.rejects(
      runOptimadeImport(db, resumed.payload, cursor, { jobId: job.id, workerId: WORKER, allowedHosts: [server.host], maxSites: 2000, maxTextBytes: 5 * 1024 * 1024, http: FAST_HTTP }),
      /no longer held/,
    );
    assert.equal(await materialCount(db), 30);

    // The same import again, as a new job: everything is a duplicate.
    const again = await importFrom(server, { pageLimit: 10 });
    const second = await again.run;
    assert.deepEqual({ imported: second.imported, duplicates: second.duplicates, skipped: second.skipped }, { imported: 0, duplicates: 30, skipped: 0 });
    assert.equal(await materialCount(db), 30);
  });

  test('bad entries are skipped with their reason; the good ones are stored; maxEntries stops early', async () => {
    const { db } = database();
    const good = (i: number) => syntheticEntry(i);
    const unknownSpecies = syntheticEntry(100);
    (unknownSpecies.attributes as Record<string, unknown>).species_at_sites = ['Li', 'Li', 'Li', 'Xx', 'Cl', 'Cl', 'Cl', 'Cl'];
    (unknownSpecies.attributes as Record<string, unknown>).species = undefined;
    const noCell = syntheticEntry(101);
    delete (noCell.attributes as Record<string, unknown>).lattice_vectors;
    const tooLight = syntheticEntry(102);
    (tooLight.attributes as Record<string, unknown>).lattice_vectors = [[100, 0, 0], [0, 100, 0], [0, 0, 100]];
    const noId = syntheticEntry(103);
    delete noId.id;
    const notStructure = { id: 'ref-1', type: 'references', attributes: { doi: '10.1/x' } };
    const entries = [good(0), unknownSpecies, good(1), noCell, tooLight, good(2), noId, notStructure, good(3), good(4), good(5)];
    server = await startOptimadeServer({ entries });
    const { run } = await importFrom(server, { pageLimit: 4 });
    const result = await run;
    assert.deepEqual({ received: result.received, imported: result.imported, skipped: result.skipped, pages: result.pages }, { received: 11, imported: 6, skipped: 5, pages: 3 });
    const reasons = Object.fromEntries(result.skippedEntries.map((s) => [`${s.page}:${s.index}:${s.id}`, s.reason]));
    assert.deepEqual(Object.keys(reasons), ['1:1:tst-100', '1:3:tst-101', '2:0:tst-102', '2:2:null', '2:3:ref-1']);
    assert.match(reasons['1:1:tst-100']!, /Xx/);
    assert.match(reasons['1:3:tst-101']!, /lattice_vectors/);
    assert.match(reasons['2:0:tst-102']!, /density .* is outside \[0\.1, 25\] g\/cm³/);
    assert.match(reasons['2:2:null']!, /no id/);
    assert.match(reasons['2:3:ref-1']!, /type "references", not "structures"/);
    assert.equal(await materialCount(db), 6);

    await resetDatabase(db);
    const limited = await importFrom(server, { pageLimit: 4, maxEntries: 6 });
    const partial = await limited.run;
    assert.deepEqual({ received: partial.received, pages: partial.pages, phase: partial.phase }, { received: 6, pages: 2, phase: 'DONE' });
  });

  test('the allow-list: a base URL, a links.next and a redirect to a host not on it are refused, and nothing is requested there', async () => {
    const { db } = database();
    let redirectHits = 0;
    const elsewhere = await startOptimadeServer({ entries: { count: 5, make: (i) => syntheticEntry(i) }, intercept: () => { redirectHits++; return undefined; } });
    try {
      server = await startOptimadeServer({ entries: { count: 5, make: (i) => syntheticEntry(i) } });
      await assert.rejects(
        startOptimadeImport(db, { baseUrl: elsewhere.baseUrl }, { allowedHosts: [server.host], actor: null }),
        (error: unknown) => error instanceof BadInputError && error.message.startsWith(`baseUrl: host ${elsewhere.host} is not on the OPTIMADE allow-list`),
      );
      assert.equal((await sql<{ n: string }>`select count(*) as n from job`.execute(db)).rows[0]!.n, '0', 'no job created');

      // links.next to another host: the first page is stored, the next is never requested.
      await server.close();
      server = await startOptimadeServer({
        entries: { count: 5, make: (i) => syntheticEntry(i) },
        nextUrl: (_base, offset, limit) => `${elsewhere.baseUrl}/v1/structures?page_offset=${offset}&page_limit=${limit}`,
      });
      const viaNext = await importFrom(server, { pageLimit: 2 });
      await assert.rejects(viaNext.run, (error: unknown) => error instanceof BadInputError && error.message === `links.next of page 1: host ${elsewhere.host} is not on the OPTIMADE allow-list (IONSIEVE_OPTIMADE_HOSTS; allowed: ${server!.host})`);
      assert.equal(await materialCount(db), 2);
      const progress = (await getJob(db, viaNext.job.id))!.progress as OptimadeImportProgress;
      assert.equal(progress.nextUrl, null);

      // A redirect to another host is not followed.
      await resetDatabase(db);
      await server.close();
      server = await startOptimadeServer({
        entries: { count: 5, make: (i) => syntheticEntry(i) },
        intercept: (request) => (request.offset === 2 ? { status: 302, headers: { location: `${elsewhere.baseUrl}/v1/structures?page_offset=2` } } : undefined),
      });
      const viaRedirect = await importFrom(server, { pageLimit: 2 });
      await assert.rejects(viaRedirect.run, (error: unknown) => error instanceof BadInputError && /^redirect from http:\/\/127\.0\.0\.1:\d+\/v1\/structures\?page_limit=2&page_offset=2: host 127\.0\.0\.1:\d+ is not on the OPTIMADE allow-list/.test(error.message));
      assert.equal(redirectHits, 0, 'the other host was never requested');
      assert.equal(await materialCount(db), 2);
    } finally {
      await elsewhere.close();
    }
  });

  test('GraphQL: importOptimade queues a job (admins), a worker runs it, job(id) shows its counts; a disallowed host is BAD_USER_INPUT', async () => {
    const { db } = database();
    server = await startOptimadeServer({ entries: { count: 12, make: (i) => syntheticEntry(i) } });
    const config = { ...loadConfig({}), optimadeHosts: [server.host] };
    const apollo = await createApolloServer({ logger: silent });
    const run = async (query: string, variables: Record<string, unknown>, role: 'admin' | 'curator' = 'admin') => {
      const response = await apollo.executeOperation(
        { query, variables },
        { contextValue: createContext({ db, config, logger: silent, principal: tokenPrincipal('ops', role) }) },
      );
      assert.equal(response.body.kind, 'single');
      return JSON.parse(JSON.stringify((response.body as { singleResult: unknown }).singleResult)) as { data?: any; errors?: any[] };
    };
    const IMPORT = 'mutation($input: ImportOptimadeInput!) { importOptimade(input: $input) { id kind status payload } }';
    const refused = await run(IMPORT, { input: { baseUrl: 'http://169.254.169.254/latest' } });
    assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(refused.errors![0].message, /baseUrl: host 169\.254\.169\.254 is not on the OPTIMADE allow-list/);
    const notUrl = await run(IMPORT, { input: { baseUrl: 'optimade please' } });
    assert.equal(notUrl.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const badLimit = await run(IMPORT, { input: { baseUrl: server.baseUrl, pageLimit: 5000 } });
    assert.match(badLimit.errors![0].message, /pageLimit must be an integer in \[1, 1000\]/);
    const curator = await run(IMPORT, { input: { baseUrl: server.baseUrl } }, 'curator');
    assert.equal(curator.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    const queued = await run(IMPORT, { input: { baseUrl: `${server.baseUrl}/`, filter: 'elements HAS "Li"', maxEntries: 10, pageLimit: 4 } });
    assert.equal(queued.errors, undefined, JSON.stringify(queued.errors));
    const jobId = queued.data.importOptimade.id;
    assert.deepEqual(
      { kind: queued.data.importOptimade.kind, status: queued.data.importOptimade.status, baseUrl: queued.data.importOptimade.payload.baseUrl, actor: queued.data.importOptimade.payload.actor },
      { kind: IMPORT_OPTIMADE_TASK, status: 'QUEUED', baseUrl: server.baseUrl, actor: 'ops' },
    );
    const worker = startWorker({
      db,
      logger: silent,
      pollMs: 50,
      tasks: { [IMPORT_OPTIMADE_TASK]: createImportOptimadeTask({ allowedHosts: [server.host], maxSites: 2000, maxTextBytes: 5 * 1024 * 1024 }) },
    });
    try {
      const JOB = 'query($id: ID!) { job(id: $id) { id status lastError optimadeImport { phase pages received imported duplicates skipped dataReturned provider skippedEntries { id reason } } } }';
      let job: any;
      for (let i = 0; i < 400; i++) {
        job = (await run(JOB, { id: jobId })).data.job;
        if (job.status === 'DONE' || job.status === 'FAILED') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(job.status, 'DONE', job.lastError);
      assert.deepEqual(job.optimadeImport, { phase: 'DONE', pages: 3, received: 10, imported: 10, duplicates: 0, skipped: 0, dataReturned: 12, provider: 'tst', skippedEntries: [] });
    } finally {
      await worker.stop();
    }
    assert.equal(await materialCount(db), 10);
    assert.equal((await run('query { job(id: "999") { id } }', {})).data.job, null);
  });
});
