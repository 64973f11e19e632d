/**
 * `npm run bench:training`: does a training job stall serving on the embedded default?
 *
 * Starts `ionsieve start` on a fresh PGlite directory (seed, shipped model, in-process trainer
 * worker) in a child process, then measures read latency from a closed loop of `--clients`
 * clients (one request in flight each), cycling through
 *   material  `{ material(id: "1") { id formula } }`
 *   screen    a first page of 20 ranked candidates (rank, score, predictedClass, id, formula)
 *   similar   `similarMaterials(input: { materialId, k: 10 })` for a random embedded material
 * for `--idle` seconds with no job, then while a training job of the default configuration
 * (trainModel with the DEFAULT preset; evaluation GROUP_KFOLD, the default) runs, for at most
 * `--train` seconds (then it is cancelled, unless it finished). Meanwhile it records every
 * trainingProgress event (graphql-ws) and the longest gap between two, and `--add-after` seconds
 * into the job adds one structure (addMaterials) and times until `screen` ranks it.
 *
 *   npx tsx bench/training-serving.ts [--isolation process|inline] [--idle 30] [--train 180] [--clients 2] [--out FILE]
 *
 * `--max-epochs N` caps the job's epochs (so a run reaches the evaluation folds and the commit).
 * `--keep` keeps the run folder (server log). `--isolation inline` fits in the server's own thread (IONSIEVE_TRAINER_ISOLATION=inline), as
 * every job did before the child process: the comparison. Prints a table and writes JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const ISOLATION = flag('isolation', 'process');
const IDLE_S = Number(flag('idle', '30'));
const TRAIN_S = Number(flag('train', '180'));
const CLIENTS = Number(flag('clients', '2'));
const ADD_AFTER_S = Number(flag('add-after', '20'));
/** Requests per second in all (0: as fast as the clients go). */
const RATE = Number(flag('rate', '10'));
const OUT = flag('out', '');
/** Caps the job's epochs (its fit and each fold's) so a run sees evaluation and the commit; default: the preset's. */
const MAX_EPOCHS = flag('max-epochs', '');
const KEEP = args.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'ionsieve-bench-training-'));
const log = (message: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

let server: ChildProcess | undefined;
process.on('exit', () => server?.kill('SIGKILL'));

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<{ data: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  const ms = performance.now() - started;
  if (body.errors?.length) throw new Error(`${query.slice(0, 60)}: ${body.errors[0]!.message}`);
  return { data: body.data, ms };
}

type Kind = 'material' | 'screen' | 'similar';
const KINDS: Kind[] = ['material', 'screen', 'similar'];

/** Closed-loop reads until `stop()` is true; latencies in ms per kind. */
async function reads(url: string, embeddedIds: string[], stop: () => boolean): Promise<Record<Kind, number[]>> {
  const out: Record<Kind, number[]> = { material: [], screen: [], similar: [] };
  let turn = 0;
  const client = async () => {
    const interval = RATE > 0 ? (CLIENTS * 1000) / RATE : 0;
    let next = performance.now();
    while (!stop()) {
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      const kind = KINDS[turn++ % KINDS.length]!;
      const id = embeddedIds[Math.floor(Math.random() * embeddedIds.length)]!;
      const { ms } =
        kind === 'material'
          ? await gql(url, '{ material(id: "1") { id formula } }')
          : kind === 'screen'
            ? await gql(url, '{ screen(first: 20) { edges { rank score predictedClass node { id formula } } } }')
            : await gql(url, 'query($id: ID!) { similarMaterials(input: { materialId: $id, k: 10 }) { rank distance material { id } } }', { id });
      out[kind].push(ms);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return out;
}

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const summary = (values: number[]) => ({ n: values.length, p50: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)), max: round(Math.max(...values)) });
const round = (x: number) => Math.round(x * 10) / 10;

const result: Record<string, unknown> = {
  command: `npx tsx bench/training-serving.ts ${args.join(' ')}`.trim(),
  isolation: ISOLATION,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageStart: loadavg().map(round) },
};
try {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/graphql`;
  const dataDir = join(work, 'pgdata');
  const logFile = join(work, 'server.log');
  log(`isolation ${ISOLATION}; server log ${logFile}`);
  server = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), IONSIEVE_DATA_DIR: dataDir, DATABASE_URL: '', IONSIEVE_RATE_LIMIT_POINTS: '0', LOG_LEVEL: 'info', IONSIEVE_TRAINER_ISOLATION: ISOLATION },
    stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
  });
  const startedAt = performance.now();
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}); see ${logFile}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await sleep(500);
  }
  log(`ready after ${round((performance.now() - startedAt) / 1000)} s`);
  const token = readFileSync(join(work, 'admin-token'), 'utf8').trim();
  const page = await gql(url, '{ screen(first: 100) { edges { node { id } } } }');
  const embeddedIds: string[] = page.data.screen.edges.map((e: { node: { id: string } }) => e.node.id);
  // Warm the caches and the model once (not recorded).
  let until = performance.now() + 5_000;
  await reads(url, embeddedIds, () => performance.now() > until);

  log(`idle: ${IDLE_S} s of reads`);
  until = performance.now() + IDLE_S * 1000;
  const idle = await reads(url, embeddedIds, () => performance.now() > until);

  const queued = await gql(url, `mutation { trainModel(input: { name: "bench default"${MAX_EPOCHS ? `, maxEpochs: ${Number(MAX_EPOCHS)}` : ''} }) { id } }`, {}, token);
  const modelId: string = queued.data.trainModel.id;
  const jobStarted = performance.now();
  log(`training model ${modelId} (default configuration, evaluation GROUP_KFOLD): reads for at most ${TRAIN_S} s`);
  const events: { t: number; status: string; phase: string | null; fold: number | null; epoch: number | null }[] = [];
  let finished = false;
  const ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  const subscription = (async () => {
    for await (const r of ws.iterate({ query: `subscription($id: ID!) { trainingProgress(modelId: $id) { status progress { phase fold folds epoch elapsedSeconds } } }`, variables: { id: modelId } })) {
      const p = (r.data as any)?.trainingProgress;
      if (!p) continue;
      events.push({ t: (performance.now() - jobStarted) / 1000, status: p.status, phase: p.progress?.phase ?? null, fold: p.progress?.fold ?? null, epoch: p.progress?.epoch ?? null });
      if (['READY', 'FAILED', 'CANCELLED'].includes(p.status)) finished = true;
    }
  })().catch((error: unknown) => log(`subscription: ${String(error)}`));

  let added: { id: string; addedAt: number; rankedAfterSeconds: number | null } | null = null;
  const adder = (async () => {
    await sleep(ADD_AFTER_S * 1000);
    if (finished) return;
    const structure = JSON.stringify({ lattice: [[4.1, 0, 0], [0, 4.1, 0], [0, 0, 4.1]], sites: [{ frac: [0, 0, 0], species: { Li: 1 } }, { frac: [0.5, 0.5, 0.5], species: { I: 1 } }] });
    const reply = await gql(url, 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id formula } }', { inputs: [{ structure: { format: 'JSON', text: structure }, name: 'bench LiI' }] }, token);
    const material = reply.data.addMaterials[0];
    const addedAt = performance.now();
    added = { id: material.id, addedAt: (addedAt - jobStarted) / 1000, rankedAfterSeconds: null };
    while (!finished && performance.now() - addedAt < 120_000) {
      const found = await gql(url, 'query($f: String) { screen(first: 50, filter: { formula: $f }) { edges { node { id } } } }', { f: material.formula });
      if (found.data.screen.edges.some((e: { node: { id: string } }) => e.node.id === material.id)) {
        added.rankedAfterSeconds = round((performance.now() - addedAt) / 1000);
        return;
      }
      await sleep(250);
    }
  })().catch((error: unknown) => log(`add: ${String(error)}`));

  const during = await reads(url, embeddedIds, () => finished || performance.now() - jobStarted > TRAIN_S * 1000);
  const trainedSeconds = (performance.now() - jobStarted) / 1000;
  const completed = finished;
  await adder;
  if (!finished) await gql(url, `mutation { cancelTraining(id: "${modelId}") { id status } }`, {}, token).catch(() => {});
  await Promise.race([subscription, sleep(5_000)]);
  await ws.dispose();

  const times = [0, ...events.map((e) => e.t)];
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // Phase (and fold) with the last epoch reached in it, in order.
  const reached = new Map<string, number>();
  for (const e of events) reached.set(`${e.phase}${e.fold ? ` fold ${e.fold}` : ''}`, Math.max(reached.get(`${e.phase}${e.fold ? ` fold ${e.fold}` : ''}`) ?? 0, e.epoch ?? 0));
  const phases = [...reached].map(([phase, epoch]) => (epoch > 0 ? `${phase} to epoch ${epoch}` : phase));
  Object.assign(result, {
    idle: Object.fromEntries(KINDS.map((k) => [k, summary(idle[k])])),
    training: Object.fromEntries(KINDS.map((k) => [k, summary(during[k])])),
    trainingSeconds: round(trainedSeconds),
    jobFinished: completed,
    progressEvents: events.length,
    longestEventGapSeconds: round(Math.max(...gaps)),
    phasesSeen: phases,
    addedMaterial: added,
    loadAverageEnd: loadavg().map(round),
  });
  process.stdout.write(`\n| reads (${CLIENTS} clients, ${RATE || 'unpaced'} req/s) | idle p50 / p95 / max ms (n) | during training p50 / p95 / max ms (n) |\n|---|---|---|\n`);
  for (const k of KINDS) {
    const a = summary(idle[k]);
    const b = summary(during[k]);
    process.stdout.write(`| ${k} | ${a.p50} / ${a.p95} / ${a.max} (${a.n}) | ${b.p50} / ${b.p95} / ${b.max} (${b.n}) |\n`);
  }
  process.stdout.write(`\ntraining ${round(trainedSeconds)} s (${completed ? 'finished' : 'cancelled at the limit'}); ${events.length} progress events, longest gap ${round(Math.max(...gaps))} s; phases: ${phases.join(', ')}\n`);
  process.stdout.write(`material added ${added ? `${(added as { addedAt: number }).addedAt.toFixed(1)} s into the job, ranked after ${(added as { rankedAfterSeconds: number | null }).rankedAfterSeconds ?? 'never'} s` : 'not added (job ended first)'}\n`);
  process.stdout.write(`isolation ${ISOLATION}; load average ${JSON.stringify(result.machine)} → ${JSON.stringify(result.loadAverageEnd)}\n`);
  if (OUT) writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => server!.once('exit', resolve)), sleep(20_000)]);
    server.kill('SIGKILL');
  }
  if (KEEP) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
