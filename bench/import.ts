/**
 * OPTIMADE import benchmark (npm run bench:import = tsx bench/import.ts): COUNT synthetic Li
 * structures (8-site cubic Li3MX4 cells, 80 compositions × lattice constants; test/support/
 * optimade-server.ts) served by a loopback OPTIMADE provider in a child process, imported into
 * PostgreSQL by the import job's own code (runOptimadeImport: pages of --page-limit, one
 * transaction per page), then embedded under the shipped default model (embedMissingMaterials, as
 * the embed_materials job) and ranked (the first page of `screen`). Prints the time of each phase.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:import                 # 100,000
 *   DATABASE_URL=… npm run bench:import -- --count 10000 --page-limit 500
 *   DATABASE_URL=… npm run bench:import -- --count 5000 --database my_bench    # beside someone else's run
 *
 * A database `ionsieve_bench_import` (or --database NAME) is created next to DATABASE_URL's (loopback only), seeded
 * (OBELiX labels and the pool, the shipped model: setup, timed apart) and dropped at the end
 * unless --keep.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { resolveSeedDir } from '../src/cli/seed-dir.js';
import { initBackend } from '../src/model/index.js';
import { embedMissingMaterials } from '../src/services/embeddings.js';
import { installDefaultModel } from '../src/services/default-model.js';
import { getActiveModel } from '../src/services/models.js';
import { runOptimadeImport, startOptimadeImport } from '../src/services/optimade-import.js';
import { screen, syncScreeningEmbeddings } from '../src/services/screening.js';
import { seed } from '../src/services/seed.js';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
};
const COUNT = option('count', 100_000);
const PAGE_LIMIT = option('page-limit', 1000);
const KEEP = args.includes('--keep');
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('bench:import needs DATABASE_URL (PostgreSQL with pgvector)');
const admin = new URL(adminUrl);
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(admin.hostname)) throw new Error('bench:import creates and drops a database: loopback servers only');
const nameAt = args.indexOf('--database');
const NAME = nameAt >= 0 ? String(args[nameAt + 1]) : 'ionsieve_bench_import';
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(NAME)) throw new Error('--database needs a lower-case SQL identifier');
const benchUrl = new URL(adminUrl);
benchUrl.pathname = `/${NAME}`;

const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
const seconds = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
/** CPU seconds of this process (every thread) since `from` (process.cpuUsage()). */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};
async function adminQuery(text: string, url = adminUrl) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const backend = await initBackend('auto');
line('machine', `${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
line('backend', `${backend.name} (${backend.provider}); node ${process.version}`);
line('structures', `${COUNT} (page_limit ${PAGE_LIMIT})`);

await adminQuery(`drop database if exists ${NAME} with (force)`);
await adminQuery(`create database ${NAME}`);
await adminQuery('create extension if not exists vector', benchUrl.toString());
const provider = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./optimade-provider.ts', import.meta.url)), String(COUNT)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const opened = await openDatabase({ databaseUrl: benchUrl.toString(), poolSize: 4 });
const { db } = opened;
const total = performance.now();
try {
  const { baseUrl, host } = await new Promise<{ baseUrl: string; host: string }>((resolve, reject) => {
    provider.once('exit', (code) => reject(new Error(`provider exited with ${code}`)));
    createInterface({ input: provider.stdout! }).once('line', (text) => resolve(JSON.parse(text)));
  });

  let t = performance.now();
  await migrateToLatest(db);
  const seedDir = resolveSeedDir('data');
  await seed(db, { dataDir: seedDir });
  const installed = await installDefaultModel(db, seedDir);
  const model = await getActiveModel(db);
  if (!installed || !model) throw new Error('the shipped default model is missing (data/models/default)');
  line('setup (seed + shipped model)', `${seconds(t)} — model ${model.name}, ${installed.embeddings} seed embeddings`);
  const setupDone = performance.now();

  t = performance.now();
  let cpu = process.cpuUsage();
  let lastPrint = 0;
  let lastReceived = 0;
  const job = await startOptimadeImport(db, { baseUrl, pageLimit: PAGE_LIMIT }, { allowedHosts: [host], actor: 'bench', runHere: { workerId: 'bench', leaseMs: 3_600_000 } });
  const imported = await runOptimadeImport(db, job.payload, null, {
    jobId: job.id,
    workerId: 'bench',
    allowedHosts: [host],
    maxSites: 2000,
    maxTextBytes: 5 * 1024 * 1024,
    onProgress: (p) => {
      if (performance.now() - lastPrint > 10_000) {
        const interval = lastPrint === 0 ? performance.now() - t : performance.now() - lastPrint;
        line('  … imported', `${p.received} in ${seconds(t)} (${Math.round(p.received / ((performance.now() - t) / 1000))}/s; last ${((p.received - lastReceived) / (interval / 1000)).toFixed(0)}/s, load ${loadavg()[0]!.toFixed(1)})`);
        lastPrint = performance.now();
        lastReceived = p.received;
      }
    },
  });
  const importS = (performance.now() - t) / 1000;
  line('import', `${importS.toFixed(1)} s: ${imported.imported} new, ${imported.duplicates} duplicates, ${imported.skipped} skipped, ${imported.pages} pages, ${imported.retries} retries — ${Math.round(imported.received / importS)} structures/s`);
  line('  CPU (this process)', `${cpuSince(cpu).toFixed(1)} s, ${((cpuSince(cpu) / imported.received) * 1000).toFixed(2)} ms per structure; load average ${loadavg()[0]!.toFixed(1)}`);

  t = performance.now();
  cpu = process.cpuUsage();
  const embedded = await embedMissingMaterials(db, model.id, { logger: pino({ level: 'silent' }) });
  const screened = await syncScreeningEmbeddings(db, model.id);
  const embedS = (performance.now() - t) / 1000;
  line('embed (shipped default)', `${embedS.toFixed(1)} s: ${embedded.embedded} embedded, ${embedded.skipped.length} skipped — ${Math.round(embedded.embedded / embedS)} structures/s (screening view: ${screened})`);
  line('  CPU (this process)', `${cpuSince(cpu).toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`);

  t = performance.now();
  const page = await screen(db, { first: 20 });
  const rankS = (performance.now() - t) / 1000;
  line('first ranked page (screen, 20)', `${rankS.toFixed(2)} s: ${await page.totalCount()} candidates; #1 ${page.items[0]?.material?.formula ?? '—'} (score ${page.items[0]?.score.toFixed(3) ?? '—'})`);
  t = performance.now();
  await screen(db, { first: 20 });
  line('  again (warm)', `${((performance.now() - t) / 1000).toFixed(2)} s`);

  const pipelineS = (performance.now() - setupDone) / 1000;
  line('import + embed + first page', `${pipelineS.toFixed(1)} s (${(pipelineS / 60).toFixed(1)} min; target ≤ 15 min for 100,000)`);
  line('total (with setup)', seconds(total));
} finally {
  provider.kill('SIGTERM');
  await opened.close();
  if (!KEEP) await adminQuery(`drop database if exists ${NAME} with (force)`);
}
