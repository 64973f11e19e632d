/**
 * Load benchmark (npm run bench:load = tsx bench/load.ts): the read path of the GraphQL API under a
 * mixed workload, while labels are written and a model trains.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:load           # PostgreSQL
 *   npm run bench:load -- --pglite                                                      # embedded PGlite
 *
 * Setup (each phase timed and printed): a fresh database (PostgreSQL: `ionsieve_bench_load_<pid>`
 * created next to DATABASE_URL's and dropped at the end; PGlite: a temporary data directory),
 * migrations, the shipped datasets, the shipped default model (its install embeds every structure),
 * the model's screening snapshot; with `--synthetic N`, N extra candidates with SYNTHETIC embeddings
 * (a stored embedding plus uniform noise ±0.05 per component, marked `source = 'bench-synthetic'`;
 * not model output) for a larger store.
 *
 * Then the server runs in a CHILD process (`ionsieve serve`, real HTTP on loopback; with --pglite
 * `ionsieve start`, whose in-process worker trains), a trainer worker in another (PostgreSQL), and
 * autocannon drives the read mix (bench/load-workload.ts) from this process at --connections for
 * --duration seconds after a --warmup. Meanwhile a separate client writes labelMaterial at
 * --label-rate per second (recording every acknowledged label, and checking after each label of a
 * candidate that the next ranking no longer lists it), and one trainModel job (a small
 * configuration) competes for the cores.
 *
 * Reported: throughput, p50/p90/p99/max latency (all reads and per kind), non-2xx, GraphQL errors
 * (every body is checked), the label stream's latency, the training job's state at the end, whether
 * every acknowledged label is in the store afterwards, CPU used by each process, load average.
 * Exits 1 when any request failed or a label was lost.
 *
 * Flags: --duration S (30) --connections C (50) --warmup S (5) --label-rate R (10/s, 0 = none)
 *        --page N (20, screen page size) --mix screen-first:1,screen-next:1,similar:1,material:1
 *        --synthetic N (0) --no-train --pglite --log-level L (server LOG_LEVEL, info)
 *        --cpu-prof (profile the server child; writes .cpuprofile into the run folder) --keep
 *        (keep the database / data directory) --reuse (PostgreSQL: set up `ionsieve_bench_load_reuse_<synthetic>`
 *        once and keep it; for read-only A/B runs with --label-rate 0 --no-train) --out FILE (JSON) --server-root DIR (run the server
 *        and trainer from another checkout, e.g. a worktree of an older commit, for before/after)
 *        --node-env E (the server's NODE_ENV, production as in docker/Dockerfile; its NODE_OPTIONS are used too)
 *        --server-node-args "…" (more node flags for the server child, e.g. --heap-prof)
 *        --same-session (keep server and trainer in this process's session; by default each gets a
 *        session of its own, like a separate service: Linux autogroup shares CPU per session)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result as AutocannonResult } from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { resolveSeedDir } from '../src/cli/seed-dir.js';
import { installDefaultModel } from '../src/services/default-model.js';
import { rescoreModel } from '../src/services/screening.js';
import { seed } from '../src/services/seed.js';
import { createApiToken } from '../src/services/tokens.js';
import { openDatabase, type Db, type OpenedDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import {
  BENCH_TRAINING_INPUT,
  CANDIDATES_OF_FORMULA_QUERY,
  hasGraphQLErrors,
  LABEL_MUTATION,
  MODEL_QUERY,
  parseMix,
  percentiles,
  READ_KINDS,
  ReadWorkload,
  TRAIN_MUTATION,
  type ReadKind,
} from './load-workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
function text(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : (args[i + 1] ?? fallback);
}
function number(name: string, fallback: number, min = 1): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} needs a number ≥ ${min}`);
  return value;
}
const DURATION_S = number('duration', 30);
const CONNECTIONS = number('connections', 50);
const WARMUP_S = number('warmup', 5, 0);
const LABEL_RATE = number('label-rate', 10, 0);
const PAGE = number('page', 20);
const SYNTHETIC = number('synthetic', 0, 0);
const MIX = parseMix(text('mix', 'screen-first:1,screen-next:1,similar:1,material:1'));
const TRAIN = !flag('no-train');
const usePglite = flag('pglite');
const LOG_LEVEL = text('log-level', 'info');
const CPU_PROF = flag('cpu-prof');
// PostgreSQL, read-only A/B runs: keep the set-up database between runs (labels and training change it).
const REUSE = flag('reuse');
const KEEP = flag('keep');
// The server and the trainer start in sessions of their own, as separate services would: with Linux
// autogroup (sched_autogroup_enabled = 1) the kernel shares CPU per session, and in this process's
// session they would share one slice with the load generator and each other.
const SAME_SESSION = flag('same-session');
const OUT = args.includes('--out') ? text('out', '') : undefined;
// Another checkout (e.g. a worktree of an older commit) to run the server and trainer from: before/after on the same machine state.
const SERVER_ROOT = args.includes('--server-root') ? text('server-root', ROOT) : ROOT;
// As docker/Dockerfile runs it (graphql-js skips its development-mode checks in production).
const NODE_ENV = text('node-env', 'production');
// Node flags the image runs with (docker/Dockerfile's NODE_OPTIONS), for the server and the trainer.
const IMAGE_NODE_OPTIONS = imageNodeOptions();
// Extra node flags for the server child, e.g. "--heap-prof --heap-prof-dir=.ionsieve/heap".
const SERVER_NODE_ARGS = text('server-node-args', '').split(' ').filter(Boolean);
const adminUrl = process.env.DATABASE_URL;
if (!usePglite && !adminUrl) throw new Error('set DATABASE_URL (PostgreSQL) or pass --pglite');
if (!usePglite && !/^postgres(ql)?:\/\/[^/]*@?(127\.0\.0\.1|localhost)(:\d+)?\//.test(adminUrl!)) {
  throw new Error('the benchmark runs on loopback only (DATABASE_URL must point at 127.0.0.1 or localhost)');
}

const runDir = mkdtempSync(join(tmpdir(), 'ionsieve-bench-load-'));
const log = (message: string) => process.stderr.write(`[bench:load ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Machine and CPU accounting (Linux /proc; zeros elsewhere)

function machineCpuTicks(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU seconds (user + system) a process has used; children it waited for are not included. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of the PostgreSQL backends serving `database` (their title reads
 * "postgres: user database host(port) state"); other databases' backends are left out.
 */
function postgresCpuSeconds(database: string): number {
  let sum = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (title.startsWith('postgres:') && title.includes(` ${database} `)) sum += processCpuSeconds(Number(entry));
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return 0;
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Database set-up

const benchDbName = REUSE ? `ionsieve_bench_load_reuse_${SYNTHETIC}` : `ionsieve_bench_load_${process.pid}`;
const pgliteDir = join(runDir, 'pgdata');
function benchUrl(): string {
  const parsed = new URL(adminUrl!);
  parsed.pathname = `/${benchDbName}`;
  return parsed.toString();
}
async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function openBenchDatabase(create: boolean): Promise<OpenedDatabase> {
  if (usePglite) return openDatabase({ dataDir: pgliteDir });
  if (create) {
    await admin(`create database ${benchDbName}`);
    const client = new pg.Client({ connectionString: benchUrl() });
    await client.connect();
    await client.query('create extension if not exists vector');
    await client.end();
  }
  return openDatabase({ databaseUrl: benchUrl() });
}

async function dropBenchDatabase(): Promise<void> {
  if (KEEP || REUSE) {
    log(usePglite ? `kept the PGlite data directory ${pgliteDir}` : `kept the database ${benchDbName}`);
    return;
  }
  if (!usePglite) await admin(`drop database if exists ${benchDbName} with (force)`).catch((e) => log(`drop failed: ${e}`));
}

async function timedPhase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await fn();
  const seconds = (performance.now() - started) / 1000;
  setupPhases[name] = round(seconds, 2);
  log(`${name}: ${seconds.toFixed(1)} s`);
  return value;
}
const setupPhases: Record<string, number> = {};

/** SYNTHETIC candidates: composition rows whose embedding is a stored embedding plus noise. */
async function addSyntheticCandidates(db: Db, modelId: string, n: number): Promise<void> {
  await sql`
    insert into material (kind, name, formula, reduced_formula, elements, nelements, natoms, source)
    select 'COMPOSITION', 'SYNTHETIC (bench:load)', f.formula, f.formula, f.elements, cardinality(f.elements), f.natoms, 'bench-synthetic'
    from generate_series(1, ${n}) i
    cross join lateral (select (array['Li2O', 'Li2S', 'Li3PS4', 'Li7La3Zr2O12'])[1 + i % 4] as formula,
      (array['{Li,O}', '{Li,S}', '{Li,P,S}', '{La,Li,O,Zr}'])[1 + i % 4]::text[] as elements,
      (array[3, 3, 8, 24])[1 + i % 4] as natoms) f`.execute(db);
  await sql`select setseed(0.42)`.execute(db);
  await sql`
    with base as (
      select e.vec::real[] as v, row_number() over (order by e.material_id) - 1 as i
      from embedding e where e.model_id = ${modelId}::bigint),
    nbase as (select count(*) as n from base),
    syn as (select m.id, row_number() over (order by m.id) - 1 as j from material m where m.source = 'bench-synthetic')
    insert into embedding (model_id, material_id, vec)
    select ${modelId}::bigint, syn.id, (select array_agg(x + 0.05 * (random() * 2 - 1)) from unnest(base.v) x)::vector
    from syn join base on base.i = syn.j % (select n from nbase)`.execute(db);
  if (!usePglite) await sql`analyze`.execute(db);
}

interface StoreIds {
  /** Bearer secrets: labels need a curator, trainModel an admin (reads are anonymous, the default). */
  curatorToken: string;
  adminToken: string;
  modelId: string;
  all: string[];
  embedded: string[];
  candidates: { id: string; formula: string }[];
  labelled: string[];
}

async function readStoreIds(db: Db): Promise<StoreIds> {
  const model = await sql<{ id: string }>`select id::text as id from model where is_active`.execute(db);
  const modelId = model.rows[0]?.id;
  if (!modelId) throw new Error('no active model after set-up (is data/models/default shipped?)');
  const curator = await createApiToken(db, { name: `bench-load curator ${process.pid}`, role: 'curator' });
  const admin = await createApiToken(db, { name: `bench-load admin ${process.pid}`, role: 'admin' });
  const all = (await sql<{ id: string }>`select id::text as id from material order by id`.execute(db)).rows.map((r) => r.id);
  const embedded = await sql<{ id: string; formula: string; cls: string | null }>`
    select m.id::text as id, m.reduced_formula as formula, m.current_label_class as cls
    from embedding e join material m on m.id = e.material_id where e.model_id = ${modelId}::bigint order by m.id`.execute(db);
  return {
    curatorToken: curator.secret,
    adminToken: admin.secret,
    modelId,
    all,
    embedded: embedded.rows.map((r) => r.id),
    candidates: embedded.rows.filter((r) => r.cls === null).map((r) => ({ id: r.id, formula: r.formula })),
    labelled: embedded.rows.filter((r) => r.cls !== null).map((r) => r.id),
  };
}

async function databaseExists(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [benchDbName])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function setUp(): Promise<StoreIds> {
  if (REUSE && !usePglite && (await databaseExists())) {
    log(`reusing the database ${benchDbName} (--reuse)`);
    const opened = await openBenchDatabase(false);
    try {
      await migrateToLatest(opened.db);
      return await readStoreIds(opened.db);
    } finally {
      await opened.close();
    }
  }
  const opened = await timedPhase(usePglite ? 'open PGlite' : 'create database', () => openBenchDatabase(true));
  const db = opened.db;
  try {
    await timedPhase('migrate', () => migrateToLatest(db));
    const seedDir = resolveSeedDir('data');
    const seeded = await timedPhase('seed (shipped datasets)', () => seed(db, { dataDir: seedDir }));
    log(`seeded ${seeded.obelixStructures} OBELiX structures, ${seeded.obelixCompositions} compositions, ${seeded.candidates} candidates, ${seeded.labels} labels`);
    const installed = await timedPhase('install the shipped model (embeds every structure)', () => installDefaultModel(db, seedDir));
    if (!installed) throw new Error('no shipped model in data/models/default');
    if (SYNTHETIC > 0) {
      await timedPhase(`add ${SYNTHETIC} SYNTHETIC candidates`, () => addSyntheticCandidates(db, installed.model.id, SYNTHETIC));
    }
    await timedPhase('screening snapshot (full re-score)', () => rescoreModel(db, installed.model.id));
    return await readStoreIds(db);
  } finally {
    await opened.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Children still running; killed if this process exits early (they are in sessions of their own). */
const children = new Set<ChildProcess>();

/** NODE_OPTIONS of docker/Dockerfile ('' without one). */
function imageNodeOptions(): string {
  const match = /^ENV\b.*\bNODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(readFileSync(join(SERVER_ROOT, 'docker/Dockerfile'), 'utf8'));
  return match ? (match[1] ?? match[2] ?? '') : '';
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function spawnCli(name: string, cliArgs: string[], env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const logFile = join(runDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', ...cliArgs], {
    cwd: SERVER_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: !SAME_SESSION,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  log(`${name}: pid ${child.pid}, log ${logFile}`);
  return child;
}

async function stopChild(name: string, child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const inTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!inTime) {
    log(`${name} did not stop within ${graceMs / 1000} s: SIGKILL`);
    child.kill('SIGKILL');
    await exited;
  }
}

/** Lines logged at error or fatal (pino levels 50, 60) by a child, cut to 300 characters. */
function errorLogLines(name: string): string[] {
  try {
    return readFileSync(join(runDir, `${name}.log`), 'utf8')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))
      .map((l) => l.slice(0, 300));
  } catch {
    return [];
  }
}

async function waitReady(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} (see its log)`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the server was not ready within ${timeoutMs / 1000} s`);
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP (the label stream, training, checks)

interface GraphQLReply {
  status: number;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  ms: number;
}

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLReply> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let body: GraphQLReply['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `not JSON (HTTP ${response.status}): ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, body, ms };
}

interface AckedLabel {
  id: string;
  materialId: string;
  class: 'FAST' | 'POOR';
}

interface LabelStreamResult {
  sent: number;
  acked: AckedLabel[];
  errors: number;
  errorSamples: string[];
  latenciesMs: number[];
  readYourWriteChecks: number;
  readYourWriteViolations: number;
  checkErrors: number;
}

/** labelMaterial at a fixed rate (open loop) until `stopAt`: half on unlabelled candidates, half relabels. */
async function labelStream(url: string, ids: StoreIds, rate: number, stopAt: number): Promise<LabelStreamResult> {
  const result: LabelStreamResult = {
    sent: 0,
    acked: [],
    errors: 0,
    errorSamples: [],
    latenciesMs: [],
    readYourWriteChecks: 0,
    readYourWriteViolations: 0,
    checkErrors: 0,
  };
  if (rate <= 0) return result;
  const candidates = [...ids.candidates].sort(() => Math.random() - 0.5);
  const labelled = [...ids.labelled];
  const inFlight = new Set<Promise<void>>();
  const interval = 1000 / rate;
  let next = performance.now();
  const fail = (message: string) => {
    result.errors++;
    if (result.errorSamples.length < 5) result.errorSamples.push(message);
  };
  const one = async (i: number) => {
    const candidate = i % 2 === 0 ? candidates.pop() : undefined;
    const materialId = candidate?.id ?? labelled[Math.floor(Math.random() * labelled.length)]!;
    const cls = Math.random() < 0.5 ? 'FAST' : 'POOR';
    const input = { materialId, class: cls, conductivity: cls === 'FAST' ? 1e-3 : 1e-9, temperature: 298, source: 'bench:load' };
    try {
      const reply = await graphql(url, LABEL_MUTATION, { input }, ids.curatorToken);
      const label = reply.body.data?.labelMaterial as { id: string; class: 'FAST' | 'POOR' } | undefined;
      if (reply.status !== 200 || reply.body.errors?.length || !label) {
        fail(`HTTP ${reply.status}: ${JSON.stringify(reply.body.errors ?? reply.body).slice(0, 300)}`);
        return;
      }
      result.latenciesMs.push(reply.ms);
      result.acked.push({ id: label.id, materialId, class: label.class });
      if (!candidate) return;
      labelled.push(candidate.id);
      // Read your write: the next ranking must not list the material just labelled.
      let after: string | null = null;
      for (;;) {
        const check = await graphql(url, CANDIDATES_OF_FORMULA_QUERY, { formula: candidate.formula, after });
        const screen = check.body.data?.screen as { edges: { node: { id: string } }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } | undefined;
        if (check.status !== 200 || check.body.errors?.length || !screen) {
          result.checkErrors++;
          fail(`read-your-write check: HTTP ${check.status}: ${JSON.stringify(check.body.errors ?? check.body).slice(0, 300)}`);
          return;
        }
        if (screen.edges.some((e) => e.node.id === candidate.id)) {
          result.readYourWriteViolations++;
          fail(`material ${candidate.id} still ranked as a candidate after its label ${label.id} was acknowledged`);
          break;
        }
        if (!screen.pageInfo.hasNextPage) break;
        after = screen.pageInfo.endCursor;
      }
      result.readYourWriteChecks++;
    } catch (error) {
      fail(String(error));
    }
  };
  for (let i = 0; performance.now() < stopAt; i++) {
    result.sent++;
    const p = one(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    next += interval;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(inFlight);
  return result;
}

/** Verifies in the store that every acknowledged label exists, on its material, with its class. */
async function verifyLabels(acked: readonly AckedLabel[]): Promise<{ checked: number; missing: string[]; wrong: string[] }> {
  const opened = await openBenchDatabase(false);
  try {
    const ids = acked.map((a) => a.id);
    const { rows } = await sql<{ id: string; material_id: string; class: string | null }>`
      select id::text as id, material_id::text as material_id, class from label where id = any(${ids}::bigint[])`.execute(opened.db);
    const found = new Map(rows.map((r) => [r.id, r]));
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const a of acked) {
      const row = found.get(a.id);
      if (!row) missing.push(a.id);
      else if (row.material_id !== a.materialId || row.class !== a.class) wrong.push(a.id);
    }
    return { checked: acked.length, missing, wrong };
  } finally {
    await opened.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reads (autocannon)

interface ReadCounters {
  latencies: Record<ReadKind, number[]>;
  graphqlErrors: Record<ReadKind, number>;
  non2xx: Record<ReadKind, number>;
  errorSamples: string[];
}

function newCounters(): ReadCounters {
  const perKind = <T>(make: () => T) => Object.fromEntries(READ_KINDS.map((k) => [k, make()])) as Record<ReadKind, T>;
  return { latencies: perKind(() => []), graphqlErrors: perKind(() => 0), non2xx: perKind(() => 0), errorSamples: [] };
}

function runReads(url: string, workload: ReadWorkload, seconds: number, counters: ReadCounters): Promise<AutocannonResult> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        setupRequest(req, context) {
          const next = workload.next();
          context.kind = next.kind;
          context.started = performance.now();
          return { ...req, body: next.body };
        },
        onResponse(status, body, context) {
          const kind = context.kind as ReadKind;
          counters.latencies[kind].push(performance.now() - (context.started as number));
          if (status < 200 || status > 299) {
            counters.non2xx[kind]++;
            if (counters.errorSamples.length < 5) counters.errorSamples.push(`${kind} HTTP ${status}: ${String(body).slice(0, 300)}`);
          } else if (hasGraphQLErrors(body)) {
            counters.graphqlErrors[kind]++;
            if (counters.errorSamples.length < 5) counters.errorSamples.push(`${kind}: ${String(body).slice(0, 300)}`);
          } else if (kind === 'screen-first' || kind === 'screen-next') {
            workload.noteScreenResponse(body);
          }
        },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Main

const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverage: { start: loadavg().map((x) => round(x, 2)) } as Record<string, number[]>,
};
log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage.start!.join(' ')}`);
log(`run folder: ${runDir}`);

let server: ChildProcess | undefined;
let trainer: ChildProcess | undefined;
let exitCode = 1;
const started = performance.now();
try {
  const ids = await setUp();
  log(`store: ${ids.all.length} materials, ${ids.embedded.length} embedded under model ${ids.modelId}, ${ids.candidates.length} unlabelled candidates`);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const graphqlUrl = `${baseUrl}/graphql`;
  const serverEnv: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL,
    NODE_ENV,
    DATABASE_URL: usePglite ? '' : benchUrl(),
    IONSIEVE_SESSION_DATABASE_URL: '',
    IONSIEVE_DATA_DIR: pgliteDir,
    // 50 connections from one address are one rate-limit client: the bench measures the server, not the limiter.
    IONSIEVE_RATE_LIMIT_POINTS: '0',
    NODE_OPTIONS: IMAGE_NODE_OPTIONS,
  };
  const profDir = join(runDir, 'cpuprofile');
  if (CPU_PROF) mkdirSync(profDir, { recursive: true });
  // PGlite serves one process: `start` runs the trainer worker inside the server.
  server = spawnCli('server', usePglite ? ['start'] : ['serve'], serverEnv, [
    ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ...SERVER_NODE_ARGS,
  ]);
  await timedPhase('server ready', () => waitReady(baseUrl, server!, 180_000));
  if (TRAIN && !usePglite) trainer = spawnCli('trainer', ['trainer', '--poll-seconds', '1'], { ...serverEnv, LOG_LEVEL: 'info' });

  const workload = new ReadWorkload(ids, MIX, PAGE);
  if (WARMUP_S > 0) {
    log(`warm-up: ${WARMUP_S} s at ${CONNECTIONS} connections (not recorded)`);
    await runReads(baseUrl, workload, WARMUP_S, newCounters());
  }

  // The measured run: reads, the label stream and one training job at once.
  machine.loadAverage.beforeRun = loadavg().map((x) => round(x, 2));
  const cpuBefore = {
    machine: machineCpuTicks(),
    server: processCpuSeconds(server.pid),
    trainer: processCpuSeconds(trainer?.pid),
    postgres: usePglite ? 0 : postgresCpuSeconds(benchDbName),
    bench: process.cpuUsage(),
  };
  log(`measured run: ${DURATION_S} s at ${CONNECTIONS} connections, labels at ${LABEL_RATE}/s, training ${TRAIN ? 'on' : 'off'}; load average ${machine.loadAverage.beforeRun.join(' ')}`);
  let training: { id: string; requestedStatus: string } | null = null;
  if (TRAIN) {
    const reply = await graphql(graphqlUrl, TRAIN_MUTATION, { input: BENCH_TRAINING_INPUT }, ids.adminToken);
    const model = reply.body.data?.trainModel as { id: string; status: string } | undefined;
    if (!model) throw new Error(`trainModel failed: ${JSON.stringify(reply.body)}`);
    training = { id: model.id, requestedStatus: model.status };
  }
  const counters = newCounters();
  const runStart = performance.now();
  const [reads, labels] = await Promise.all([
    runReads(baseUrl, workload, DURATION_S, counters),
    labelStream(graphqlUrl, ids, LABEL_RATE, runStart + DURATION_S * 1000),
  ]);
  const runSeconds = (performance.now() - runStart) / 1000;
  machine.loadAverage.afterRun = loadavg().map((x) => round(x, 2));
  const machineAfter = machineCpuTicks();
  const cpu = {
    machineBusyPercent: round((100 * (machineAfter.busy - cpuBefore.machine.busy)) / Math.max(1, machineAfter.total - cpuBefore.machine.total)),
    serverSeconds: round(processCpuSeconds(server.pid) - cpuBefore.server),
    trainerSeconds: trainer ? round(processCpuSeconds(trainer.pid) - cpuBefore.trainer) : null,
    postgresSeconds: usePglite ? null : round(postgresCpuSeconds(benchDbName) - cpuBefore.postgres),
    benchSeconds: round((process.cpuUsage(cpuBefore.bench).user + process.cpuUsage(cpuBefore.bench).system) / 1e6),
    serverMsPerRequest: 0,
  };
  // Server CPU per HTTP request (reads, labels and checks): the figure that does not depend on how busy the machine is.
  cpu.serverMsPerRequest = round((1000 * cpu.serverSeconds) / Math.max(1, reads.requests.total + labels.sent + labels.readYourWriteChecks), 2);

  let trainingEnd: Record<string, unknown> | null = null;
  if (training) {
    const reply = await graphql(graphqlUrl, MODEL_QUERY, { id: training.id });
    trainingEnd = reply.body.data?.model ?? { error: JSON.stringify(reply.body.errors) };
  }

  await stopChild('trainer', trainer, 20_000);
  await stopChild('server', server, 30_000);
  const verified = await verifyLabels(labels.acked);

  const logErrors = { server: errorLogLines('server'), trainer: trainer ? errorLogLines('trainer') : [] };
  const graphqlErrors = READ_KINDS.reduce((s, k) => s + counters.graphqlErrors[k], 0);
  const perKind = Object.fromEntries(
    READ_KINDS.filter((k) => counters.latencies[k].length > 0).map((k) => [
      k,
      { ...percentiles(counters.latencies[k]), graphqlErrors: counters.graphqlErrors[k], non2xx: counters.non2xx[k] },
    ]),
  );
  const readErrors = reads.non2xx + reads.errors + reads.timeouts + graphqlErrors;
  const report = {
    command: `tsx bench/load.ts ${args.join(' ')}`.trim(),
    dialect: usePglite ? 'pglite' : 'postgres',
    machine,
    setupSeconds: setupPhases,
    store: { materials: ids.all.length, embedded: ids.embedded.length, candidates: ids.candidates.length, synthetic: SYNTHETIC, syntheticNote: SYNTHETIC > 0 ? 'SYNTHETIC embeddings (stored embedding + noise), not model output' : undefined },
    serverRoot: SERVER_ROOT,
    settings: { ownSessions: !SAME_SESSION, durationS: DURATION_S, connections: CONNECTIONS, warmupS: WARMUP_S, labelRate: LABEL_RATE, page: PAGE, mix: MIX, serverLogLevel: LOG_LEVEL, serverNodeEnv: NODE_ENV, nodeOptions: IMAGE_NODE_OPTIONS },
    reads: {
      requests: reads.requests.total,
      requestsPerSecond: round(reads.requests.total / reads.duration),
      latencyMs: { p50: reads.latency.p50, p90: reads.latency.p90, p99: reads.latency.p99, max: reads.latency.max },
      non2xx: reads.non2xx,
      connectionErrors: reads.errors,
      timeouts: reads.timeouts,
      graphqlErrors,
      perKind,
      errorSamples: counters.errorSamples,
    },
    labels: {
      sent: labels.sent,
      acknowledged: labels.acked.length,
      errors: labels.errors,
      latencyMs: percentiles(labels.latenciesMs),
      readYourWriteChecks: labels.readYourWriteChecks,
      readYourWriteViolations: labels.readYourWriteViolations,
      verified: { checked: verified.checked, missing: verified.missing.length, wrong: verified.wrong.length },
      errorSamples: labels.errorSamples,
    },
    training: training ? { modelId: training.id, atEnd: trainingEnd } : null,
    errorLogLines: { server: logErrors.server.length, trainer: logErrors.trainer.length, samples: [...logErrors.server, ...logErrors.trainer].slice(0, 5) },
    cpu: { ...cpu, runSeconds: round(runSeconds) },
    target: { requestsPerSecond: 1000, p99Ms: 100, errors: 0 },
  };
  const met = report.reads.requestsPerSecond >= 1000 && reads.latency.p99 <= 100 && readErrors === 0;
  const lost = verified.missing.length + verified.wrong.length;
  exitCode = readErrors === 0 && labels.errors === 0 && lost === 0 ? 0 : 1;

  const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
  console.log(`\nbench:load — ${report.dialect}, ${machine.cores} cores, Node ${machine.node}; server NODE_ENV=${NODE_ENV}, NODE_OPTIONS=${IMAGE_NODE_OPTIONS || "(none)"}, LOG_LEVEL=${LOG_LEVEL}; ${SAME_SESSION ? 'server and trainer in the bench session' : 'server and trainer in sessions of their own'}`);
  line('load average start / before / after', `${machine.loadAverage.start!.join(' ')} / ${machine.loadAverage.beforeRun!.join(' ')} / ${machine.loadAverage.afterRun!.join(' ')}`);
  line('store', `${ids.all.length} materials, ${ids.embedded.length} embedded, ${ids.candidates.length} candidates${SYNTHETIC ? ` (${SYNTHETIC} SYNTHETIC)` : ''}`);
  line('reads', `${reads.requests.total} in ${reads.duration} s = ${report.reads.requestsPerSecond} req/s at ${CONNECTIONS} connections`);
  line('latency p50 / p90 / p99 / max', `${reads.latency.p50} / ${reads.latency.p90} / ${reads.latency.p99} / ${reads.latency.max} ms`);
  line('errors', `non-2xx ${reads.non2xx}, GraphQL ${graphqlErrors}, connection ${reads.errors}, timeouts ${reads.timeouts}`);
  for (const [kind, s] of Object.entries(perKind)) {
    line(`  ${kind}`, `${s.n} req, p50 ${s.p50} / p90 ${s.p90} / p99 ${s.p99} / max ${s.max} ms, errors ${s.graphqlErrors + s.non2xx}`);
  }
  line('labels', `${labels.sent} sent, ${labels.acked.length} acknowledged, ${labels.errors} errors; p50 ${report.labels.latencyMs.p50} / p99 ${report.labels.latencyMs.p99} / max ${report.labels.latencyMs.max} ms`);
  line('  read-your-write', `${labels.readYourWriteChecks} checks, ${labels.readYourWriteViolations} violations`);
  line('  acknowledged labels in the store', `${verified.checked - lost} of ${verified.checked} (${verified.missing.length} missing, ${verified.wrong.length} different)`);
  line('error lines in the logs', `server ${logErrors.server.length}, trainer ${logErrors.trainer.length}${usePglite ? ' (PGlite: the worker logs in the server)' : ''}`);
  for (const sample of report.errorLogLines.samples) console.log(`  log: ${sample}`);
  line('training job', training ? `model ${training.id}: ${JSON.stringify(trainingEnd)}` : 'off');
  line('CPU during the run', `machine ${cpu.machineBusyPercent} % busy; server ${cpu.serverSeconds} s, postgres ${cpu.postgresSeconds ?? '-'} s, trainer ${cpu.trainerSeconds ?? '-'} s, load generator ${cpu.benchSeconds} s (of ${round(runSeconds * machine.cores)} core-s); server ${cpu.serverMsPerRequest} ms CPU per request`);
  line('target (≥ 1000 req/s, p99 ≤ 100 ms, 0 errors)', met ? 'MET' : 'NOT MET');
  for (const sample of [...counters.errorSamples, ...labels.errorSamples]) console.log(`  error sample: ${sample}`);
  if (CPU_PROF) line('server CPU profile', profDir);
  line('total time', `${round((performance.now() - started) / 1000)} s`);
  if (OUT) writeFileSync(OUT, `${JSON.stringify({ ...report, targetMet: met }, null, 2)}\n`);
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await stopChild('trainer', trainer, 5_000);
  await stopChild('server', server, 10_000);
  await dropBenchDatabase();
  if (!KEEP && !CPU_PROF) rmSync(runDir, { recursive: true, force: true });
  else log(`kept ${runDir}`);
}
process.exit(exitCode);
