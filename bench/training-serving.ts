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
 * Reported per read kind: p50 / p95 / p99 / max idle and during the job, and during the job's
 * phases (fit, evaluation folds, embedding + publish); the 1-minute load average sampled every 2 s
 * (the machine may be shared: a latency figure means little without it); the longest gap between
 * two progress events (overall and through evaluation). The server runs with bench/serving-probe.mjs
 * preloaded: its event-loop delay, GC pauses and CPU per second, summarised per phase.
 * `--cpu-prof DIR` writes the server's V8 CPU profile there (at its exit). `--server-root DIR` runs
 * the server of another checkout (the "before" of a before/after pair; it must have node_modules).
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
/** Seconds of reads after the job ends (its HNSW index and screening re-score run then). */
const TAIL_S = Number(flag('tail', '10'));
const KEEP = args.includes('--keep');
const SERVER_ROOT = flag('server-root', ROOT);
const CPU_PROF = flag('cpu-prof', '');
const PROBE = fileURLToPath(new URL('./serving-probe.mjs', import.meta.url));
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

/** One read: when it started (performance.now()) and how long it took (ms). */
interface Read {
  at: number;
  ms: number;
}

/** Closed-loop reads until `stop()` is true; latencies in ms per kind. */
async function reads(url: string, embeddedIds: string[], stop: () => boolean): Promise<Record<Kind, Read[]>> {
  const out: Record<Kind, Read[]> = { material: [], screen: [], similar: [] };
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
      const at = performance.now();
      const { ms } =
        kind === 'material'
          ? await gql(url, '{ material(id: "1") { id formula } }')
          : kind === 'screen'
            ? await gql(url, '{ screen(first: 20) { edges { rank score predictedClass node { id formula } } } }')
            : await gql(url, 'query($id: ID!) { similarMaterials(input: { materialId: $id, k: 10 }) { rank distance material { id } } }', { id });
      out[kind].push({ at, ms });
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
const summary = (reads: readonly Read[]) => {
  const values = reads.map((r) => r.ms);
  return { n: values.length, p50: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)), p99: round(quantile(values, 0.99)), max: round(values.length ? Math.max(...values) : NaN) };
};
const cell = (s: ReturnType<typeof summary>) => `${s.p50} / ${s.p95} / ${s.p99} / ${s.max} (${s.n})`;
/** The 1-minute load average, every 2 s, while `sampling` holds. */
const loadSamples: { at: number; load1: number }[] = [];
const loadTimer = setInterval(() => loadSamples.push({ at: performance.now(), load1: loadavg()[0]! }), 2_000);
loadTimer.unref();
const loadBetween = (from: number, to: number) => {
  const xs = loadSamples.filter((s) => s.at >= from && s.at <= to).map((s) => s.load1);
  return xs.length ? { min: round(Math.min(...xs)), mean: round(xs.reduce((a, b) => a + b, 0) / xs.length), max: round(Math.max(...xs)) } : null;
};
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
  const probeFile = join(work, 'probe.jsonl');
  const nodeArgs = ['--max-semi-space-size=64', '--import', PROBE, ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []), '--import', 'tsx', 'src/cli/main.ts', 'start'];
  log(`server ${SERVER_ROOT}: node ${nodeArgs.join(' ')}`);
  server = spawn(process.execPath, nodeArgs, {
    cwd: SERVER_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), IONSIEVE_DATA_DIR: dataDir, DATABASE_URL: '', IONSIEVE_RATE_LIMIT_POINTS: '0', LOG_LEVEL: 'info', IONSIEVE_TRAINER_ISOLATION: ISOLATION, IONSIEVE_PROBE_FILE: probeFile },
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
  const idleFrom = performance.now();
  until = performance.now() + IDLE_S * 1000;
  const idle = await reads(url, embeddedIds, () => performance.now() > until);

  const queued = await gql(url, `mutation { trainModel(input: { name: "bench default"${MAX_EPOCHS ? `, maxEpochs: ${Number(MAX_EPOCHS)}` : ''} }) { id } }`, {}, token);
  const modelId: string = queued.data.trainModel.id;
  const jobStarted = performance.now();
  log(`training model ${modelId} (default configuration, evaluation GROUP_KFOLD): reads for at most ${TRAIN_S} s`);
  const events: { at: number; t: number; status: string; phase: string | null; fold: number | null; epoch: number | null }[] = [];
  let finished = false;
  let finishedAt = Infinity;
  const ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  const subscription = (async () => {
    for await (const r of ws.iterate({ query: `subscription($id: ID!) { trainingProgress(modelId: $id) { status progress { phase fold folds epoch elapsedSeconds } } }`, variables: { id: modelId } })) {
      const p = (r.data as any)?.trainingProgress;
      if (!p) continue;
      events.push({ at: performance.now(), t: (performance.now() - jobStarted) / 1000, status: p.status, phase: p.progress?.phase ?? null, fold: p.progress?.fold ?? null, epoch: p.progress?.epoch ?? null });
      if (['READY', 'FAILED', 'CANCELLED'].includes(p.status) && !finished) {
        finished = true;
        finishedAt = performance.now();
      }
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

  const during = await reads(url, embeddedIds, () => performance.now() - finishedAt > TAIL_S * 1000 || performance.now() - jobStarted > TRAIN_S * 1000);
  const readsEnded = performance.now();
  const jobEnded = Math.min(finishedAt, readsEnded);
  const trainedSeconds = (jobEnded - jobStarted) / 1000;
  const completed = finished;
  await adder;
  if (!finished) await gql(url, `mutation { cancelTraining(id: "${modelId}") { id status } }`, {}, token).catch(() => {});
  await Promise.race([subscription, sleep(5_000)]);
  await ws.dispose();

  const times = [0, ...events.map((e) => e.t)];
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // Through evaluation: from the first EVALUATING event to the first event after the last one.
  const firstEval = events.findIndex((e) => e.phase === 'EVALUATING');
  const lastEval = events.reduce((last, e, i) => (e.phase === 'EVALUATING' ? i : last), -1);
  const evalGaps = firstEval >= 0 ? events.slice(firstEval + 1, Math.min(events.length, lastEval + 2)).map((e, i) => e.t - events[firstEval + i]!.t) : [];
  // Phase windows of the job (performance.now() bounds): fit, evaluation, embedding + publish.
  const phaseStart = (phase: string) => events.find((e) => e.phase === phase)?.at;
  const bounds = [
    ['fit', jobStarted, phaseStart('EVALUATING') ?? phaseStart('EMBEDDING') ?? jobEnded],
    ['evaluation', phaseStart('EVALUATING'), phaseStart('EMBEDDING') ?? jobEnded],
    ['embedding + publish', phaseStart('EMBEDDING'), events.find((e) => ['READY', 'FAILED', 'CANCELLED'].includes(e.status))?.at ?? jobEnded],
  ].filter((b): b is [string, number, number] => typeof b[1] === 'number' && typeof b[2] === 'number' && b[2] > b[1]);
  const within = (rs: readonly Read[], from: number, to: number) => rs.filter((r) => r.at >= from && r.at < to);
  // The server's probe lines (event loop, GC, CPU per second), per window.
  const probe: { t: number; loopP99: number; loopMax: number; gcMs: number; gcMaxMs: number; cpuMs: number }[] = (() => {
    try {
      return readFileSync(probeFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  })();
  const origin = Date.now() - performance.now();
  const probeBetween = (from: number, to: number) => {
    const xs = probe.filter((p) => p.t - origin >= from && p.t - origin < to);
    if (xs.length === 0) return null;
    const loop = xs.map((x) => x.loopMax);
    return {
      seconds: xs.length,
      loopDelayP99MedianMs: round(quantile(xs.map((x) => x.loopP99), 0.5)),
      loopDelayMaxMs: round(Math.max(...loop)),
      gcMsPerSecond: round(xs.reduce((a, x) => a + x.gcMs, 0) / xs.length),
      gcLongestMs: round(Math.max(...xs.map((x) => x.gcMaxMs))),
      cpuShare: round(xs.reduce((a, x) => a + x.cpuMs, 0) / (xs.length * 1000)),
    };
  };
  const windows: [string, number, number][] = [['idle', idleFrom, idleFrom + IDLE_S * 1000], ['whole job', jobStarted, jobEnded], ...bounds];
  if (readsEnded > jobEnded + 1000) windows.push([`${round((readsEnded - jobEnded) / 1000)} s after the job (index, re-score)`, jobEnded, readsEnded]);
  const perWindow = windows.map(([name, from, to]) => ({
    window: name,
    seconds: round((to - from) / 1000),
    reads: Object.fromEntries(KINDS.map((k) => [k, summary(within(name === 'idle' ? idle[k] : during[k], from, to))])),
    loadAverage: loadBetween(from, to),
    server: probeBetween(from, to),
  }));
  // Phase (and fold) with the last epoch reached in it, in order.
  const reached = new Map<string, number>();
  for (const e of events) reached.set(`${e.phase}${e.fold ? ` fold ${e.fold}` : ''}`, Math.max(reached.get(`${e.phase}${e.fold ? ` fold ${e.fold}` : ''}`) ?? 0, e.epoch ?? 0));
  const phases = [...reached].map(([phase, epoch]) => (epoch > 0 ? `${phase} to epoch ${epoch}` : phase));
  Object.assign(result, {
    idle: Object.fromEntries(KINDS.map((k) => [k, summary(idle[k])])),
    training: Object.fromEntries(KINDS.map((k) => [k, summary(within(during[k], jobStarted, jobEnded))])),
    windows: perWindow,
    longestEvaluationEventGapSeconds: evalGaps.length ? round(Math.max(...evalGaps)) : null,
    trainingSeconds: round(trainedSeconds),
    jobFinished: completed,
    progressEvents: events.length,
    longestEventGapSeconds: round(Math.max(...gaps)),
    phasesSeen: phases,
    addedMaterial: added,
    loadAverageEnd: loadavg().map(round),
  });
  process.stdout.write(`\n| window (${CLIENTS} clients, ${RATE || 'unpaced'} req/s in all) | s | material p50 / p95 / p99 / max ms (n) | screen | similarMaterials | load avg (1 min) min–max, mean | server: loop delay p99 (median s) / max ms, GC ms/s (longest), CPU |\n|---|---|---|---|---|---|---|\n`);
  for (const w of perWindow) {
    const l = w.loadAverage;
    const p = w.server;
    process.stdout.write(
      `| ${w.window} | ${w.seconds} | ${KINDS.map((k) => cell(w.reads[k]!)).join(' | ')} | ${l ? `${l.min}–${l.max}, ${l.mean}` : '–'} | ${p ? `${p.loopDelayP99MedianMs} / ${p.loopDelayMaxMs}, ${p.gcMsPerSecond} (${p.gcLongestMs}), ${p.cpuShare}` : '–'} |\n`,
    );
  }
  process.stdout.write(`\ntraining ${round(trainedSeconds)} s (${completed ? 'finished' : 'cancelled at the limit'}); ${events.length} progress events, longest gap ${round(Math.max(...gaps))} s (through evaluation ${evalGaps.length ? `${round(Math.max(...evalGaps))} s` : 'not reached'}); phases: ${phases.join(', ')}\n`);
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
