/**
 * ML-core benchmark (npm run bench:train = tsx bench/train.ts [--quick] [--profile] [--threads 1|2]):
 *   1. graph building for the 254 OBELiX training crystals (k = 12)
 *   2. training throughput (forward + backward + Adam) on a ≈2,560-atom batch, 1 and 2 threads, and
 *      (native kernels built) 1 model thread with OpenBLAS on every core, as fit's threads 'auto' does
 *   3. inference throughput (structures/s): the network alone (embedStructures, graphs prebuilt), and
 *      graphs + network as an embedding job does it, on 1 thread and on 2 (ParallelEmbedder)
 *   4. a full default training run on all 254 crystals (skipped with --quick)
 *   --profile: kernel times of one single-thread training step (tf.profile), the slowest first
 *   5. peak RSS
 * Reads data/obelix/structures_p1.jsonl (override with IONSIEVE_OBELIX_JSONL).
 * Prints wall-clock rates and, because the dev machine is shared, also the process CPU time per step
 * (all threads) and the load average: on a busy machine wall-clock rates understate the code.
 */
import { availableParallelism, loadavg } from 'node:os';
import { buildCrystalGraph, type CrystalGraph } from '../src/graph/index.js';
import { createModel, embedStructureBatch, embedStructures, initBackend, trainDefaultHyperparameters } from '../src/model/index.js';
import { updateMovingStatistics } from '../src/model/backbone.js';
import type { Step } from '../src/training/batching.js';
import { fit } from '../src/training/fit.js';
import { ParallelEmbedder, ParallelTrainer } from '../src/training/parallel.js';
import { setBlasThreads } from '../src/model/native.js';
import { shardGradients } from '../src/training/step.js';
import * as tf from '@tensorflow/tfjs';
import { loadObelix } from '../test/support/obelix.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const STEP_ATOMS = 2560;
const REPEATS = 4;

function line(label: string, value: string) {
  console.log(`${label.padEnd(44)} ${value}`);
}

const backend = await initBackend('auto');
line('backend', `${backend.name} (${backend.provider}), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}`);
line('matrix products', backend.matMul ? `${backend.matMul.name}${backend.matMul.detail ? ` (${backend.matMul.detail})` : ''}${backend.matMul.reason ? ` (${backend.matMul.reason})` : ''}` : 'backend');
const data = loadObelix();
const h = trainDefaultHyperparameters;

let t = performance.now();
const graphs: CrystalGraph[] = data.map((d) => buildCrystalGraph(d.structure, { k: h.k }));
const graphMs = performance.now() - t;
const totalAtoms = graphs.reduce((a, g) => a + g.numAtoms, 0);
line('graphs (254 crystals, k = 12)', `${graphMs.toFixed(0)} ms for ${graphs.length} crystals / ${totalAtoms} atoms`);

// A fixed batch of ≈ 2,560 atoms: crystals in file order until the budget is reached.
const batchCrystals: number[] = [];
let batchAtoms = 0;
for (let i = 0; i < graphs.length && batchAtoms < STEP_ATOMS - 40; i++) {
  if (batchAtoms + graphs[i]!.numAtoms > STEP_ATOMS) continue;
  batchCrystals.push(i);
  batchAtoms += graphs[i]!.numAtoms;
}
const B = batchCrystals.length;
const pairMask = new Float32Array(B * B);
for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) pairMask[a * B + b] = 1;
const step: Step = { crystals: batchCrystals, pairMask, pairCount: (B * (B - 1)) / 2 };
const labels = data.map((d) => d.label);
const model = createModel(h);
const optimizer = tf.train.adam(h.learningRate);
const names = new Map([...model.trainable].map(([n, v]) => [n, v.name]));

function apply(grads: Map<string, tf.Tensor>) {
  const named: Record<string, tf.Tensor> = {};
  for (const [n, g] of grads) named[names.get(n)!] = g;
  optimizer.applyGradients(named as unknown as Parameters<typeof optimizer.applyGradients>[0]);
  for (const g of grads.values()) g.dispose();
}

async function measure(label: string, run: () => Promise<void> | void) {
  await run();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < REPEATS; r++) await run();
  const ms = (performance.now() - t0) / REPEATS;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / REPEATS;
  line(label, `${ms.toFixed(0)} ms/step, ${((batchAtoms / ms) * 1000).toFixed(0)} atoms/s (CPU ${cpuMs.toFixed(0)} ms/step over all threads)`);
}

line('training batch', `${B} crystals, ${batchAtoms} atoms, ${step.pairCount} pairs`);
const singleThreadStep = () => {
  const r = shardGradients(model, graphs, {
    own: batchCrystals, other: [], labels: batchCrystals.map((c) => labels[c]!), pairMask, pairNormaliser: step.pairCount, crystalNormaliser: B,
  });
  apply(r.grads);
  updateMovingStatistics(model, r.statistics);
};
if (backend.name === 'wasm' || backend.name === 'cpu') {
  await measure('train step, 1 thread (fwd+bwd+Adam)', singleThreadStep);
}
if (profile) {
  // Per-kernel time of one step; scopes such as customGrad's "forward" nest others and are left out.
  const { kernels } = await tf.profile(() => singleThreadStep());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    if (k.name === 'forward') continue;
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(await k.kernelTimeMs) || 0;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  for (const [name, { ms, calls }] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    line(`  kernel ${name}`, `${ms.toFixed(1)} ms in ${calls} call(s)`);
  }
}
if (backend.matMul?.name === 'openblas' && availableParallelism() >= 2) {
  // What fit's threads 'auto' does with the native kernels: one model thread, OpenBLAS on every core.
  const previous = setBlasThreads(availableParallelism());
  await measure(`train step, 1 thread, OpenBLAS on ${availableParallelism()} threads`, singleThreadStep);
  setBlasThreads(previous);
}
if (backend.name === 'wasm' && availableParallelism() >= 2) {
  const trainer = await ParallelTrainer.start(model, graphs);
  await measure('train step, 2 threads (fwd+bwd+Adam)', async () => {
    const r = await trainer.step(model, step, labels);
    apply(r.grads);
  });
  t = performance.now();
  await trainer.embed(model, graphs.map((_, i) => i));
  const ms2 = performance.now() - t;
  line('inference, 2 threads', `${((graphs.length / ms2) * 1000).toFixed(0)} structures/s (${((totalAtoms / ms2) * 1000).toFixed(0)} atoms/s)`);
  await trainer.terminate();
}
embedStructures(model, graphs.slice(0, 8));
/** Wall and process CPU (all threads) of `run`, as structures/s of the 254 crystals. */
async function rate(label: string, run: () => unknown) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  line(label, `${((graphs.length / ms) * 1000).toFixed(1)} structures/s (${((totalAtoms / ms) * 1000).toFixed(0)} atoms/s; CPU ${cpuS.toFixed(2)} s = ${(graphs.length / cpuS).toFixed(0)} structures per CPU-second)`);
}
await rate('inference, 1 thread (embedStructures)', () => embedStructures(model, graphs, { batchSize: 64 }));
// What an embedding job does per structure: graph + network (services/embeddings.ts).
const structures = data.map((d) => d.structure);
await rate('graphs + inference, 1 thread', () => embedStructureBatch(model, structures, { batchSize: 64 }));
if (backend.name === 'wasm' && availableParallelism() >= 2) {
  t = performance.now();
  const embedder = await ParallelEmbedder.start(model);
  line('second thread start (ParallelEmbedder)', `${(performance.now() - t).toFixed(0)} ms`);
  await embedder.embed(structures.slice(0, 8));
  await rate('graphs + inference, 2 threads', () => embedder.embed(structures, { batchSize: 64 }));
  await embedder.terminate();
}
model.dispose();

if (!quick) {
  t = performance.now();
  const result = await fit(graphs, labels, h, {
    validation: { mode: 'crystals', fraction: 0.1 },
    onEpoch: (p) =>
      console.log(
        `  epoch ${String(p.epoch).padStart(2)}  train ${p.trainLoss.toFixed(4)}  val ${p.validationLoss.toFixed(4)}  ` +
          `best ${p.bestEpoch}  ${(p.elapsedMs / 1000).toFixed(0)} s  ${p.atomsPerSecond.toFixed(0)} atoms/s`,
      ),
  });
  line('full default training run', `${((performance.now() - t) / 1000).toFixed(1)} s, ${result.curve.length} epochs, best epoch ${result.bestEpoch}, ${result.threads} model thread(s), OpenBLAS threads ${result.blasThreads}`);
  result.model.dispose();
}
line('peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
line('load average at the end', loadavg()[0]!.toFixed(1));
