import { buildCrystalGraph } from '../src/graph/index.js';
import { createModel, initBackend, trainDefaultHyperparameters } from '../src/model/index.js';
import { shardGradients } from '../src/training/step.js';
import * as tf from '@tensorflow/tfjs';
import { loadObelix } from '../test/support/obelix.js';
await initBackend('auto');
const data = loadObelix(); const h = trainDefaultHyperparameters;
const graphs = data.map((d) => buildCrystalGraph(d.structure, { k: h.k }));
const crystals: number[] = []; let atoms = 0;
for (let i = 0; i < graphs.length && atoms < 2520; i++) { if (atoms + graphs[i]!.numAtoms > 2560) continue; crystals.push(i); atoms += graphs[i]!.numAtoms; }
const B = crystals.length; const pairMask = new Float32Array(B * B);
for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) pairMask[a * B + b] = 1;
const model = createModel(h); const labels = data.map((d) => d.label);
const run = () => { const r = shardGradients(model, graphs, { own: crystals, other: [], labels: crystals.map((c) => labels[c]!), pairMask, pairNormaliser: B*(B-1)/2, crystalNormaliser: B }); for (const g of r.grads.values()) g.dispose(); };
run();
const prof = await tf.profile(() => { run(); });
const byKernel = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) { const e = byKernel.get(k.name) ?? { ms: 0, n: 0 }; e.ms += (await k.kernelTimeMs as number) || 0; e.n++; byKernel.set(k.name, e); }
const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
console.log('total kernel ms', total.toFixed(1));
for (const [n, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(n.padEnd(34), e.ms.toFixed(1).padStart(8), String(e.n).padStart(5));
const t0 = performance.now(); for (let i = 0; i < 4; i++) run(); console.log('step ms', ((performance.now() - t0) / 4).toFixed(0));
