/**
 * `ionsieve import --optimade` end to end through bin/ionsieve.js (PGlite in a temp folder) against
 * a loopback provider: an import with --filter and --max-entries, one stopped by the provider and
 * continued with --resume (no entry twice), and a host not on IONSIEVE_OPTIMADE_HOSTS refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startOptimadeServer, syntheticEntry, type OptimadeFixtureServer } from '../support/optimade-server.js';

const BIN = fileURLToPath(new URL('../../bin/ionsieve.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-optimade-cli-'));
let server: OptimadeFixtureServer;
/** While set, the provider answers 400 for this page offset. */
let failAt: number | null = null;

before(async () => {
  server = await startOptimadeServer({
    entries: { count: 15, make: (i) => syntheticEntry(i) },
    intercept: (request) => (request.offset === failAt ? { status: 400, body: { errors: [{ detail: 'page_offset out of range' }] } } : undefined),
  });
});
after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI asynchronously (the loopback provider lives in this process). */
async function ionsieve(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args, '--data-dir', join(work, 'pgdata')], {
      cwd: work,
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', IONSIEVE_OPTIMADE_HOSTS: server.host },
      timeout: 180_000,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

test('import --optimade with --filter and --max-entries, then --resume of an import the provider stopped', async () => {
  const first = await ionsieve('import', '--optimade', server.baseUrl, '--filter', 'elements HAS "Li"', '--max-entries', '7', '--page-limit', '5');
  assert.equal(first.status, 0, first.stderr);
  const summary = JSON.parse(first.stdout);
  assert.deepEqual(
    { pages: summary.pages, received: summary.received, imported: summary.imported, skipped: summary.skipped, provider: summary.provider, dataReturned: summary.dataReturned },
    { pages: 2, received: 7, imported: 7, skipped: 0, provider: 'tst', dataReturned: 15 },
  );
  assert.ok(server.requests.some((r) => r.filter === 'elements HAS "Li"'));

  // The provider refuses page 3 (offset 10): pages 1–2 are kept, the job says how to resume.
  failAt = 10;
  const stopped = await ionsieve('import', '--optimade', server.baseUrl, '--page-limit', '5');
  assert.equal(stopped.status, 1);
  assert.match(stopped.stderr, /the provider answered 400: page_offset out of range/);
  const jobId = /--resume (\d+)/.exec(stopped.stderr)?.[1];
  assert.ok(jobId, stopped.stderr);

  failAt = null;
  const before = server.requests.length;
  const resumed = await ionsieve('import', '--resume', jobId);
  assert.equal(resumed.status, 0, resumed.stderr);
  const done = JSON.parse(resumed.stdout);
  // 7 were stored by the first import: the second counts them as duplicates; 8 are new.
  assert.deepEqual({ received: done.received, imported: done.imported, duplicates: done.duplicates }, { received: 15, imported: 8, duplicates: 7 });
  assert.deepEqual(server.requests.slice(before).filter((r) => r.url.startsWith('/v1/structures')).map((r) => r.offset), [10]);

  const again = await ionsieve('import', '--resume', jobId);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`job ${jobId} cannot be resumed: it is import_optimade DONE`));
});

test('a host not on IONSIEVE_OPTIMADE_HOSTS is refused before anything is requested', async () => {
  const refused = await ionsieve('import', '--optimade', 'http://169.254.169.254/latest');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /ionsieve: baseUrl: host 169\.254\.169\.254 is not on the OPTIMADE allow-list \(IONSIEVE_OPTIMADE_HOSTS; allowed: 127\.0\.0\.1:\d+\)/);
});
