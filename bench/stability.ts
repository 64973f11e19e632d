/**
 * Rank agreement of two trainings that differ only in their seed (npm run bench:stability =
 * tsx bench/stability.ts [--seeds 1,2] [--preset default] [--artifact FILE]): each trains on every
 * labelled OBELiX row as `ionsieve train-default` does, embeds the labelled rows and the 279
 * candidates of data/candidates/open_li_pool_v1, and scores each candidate by the distance ratio
 * against every labelled row (bounded distances where the preset has a distance scale). Prints Spearman's ρ between the two candidate rankings and the
 * overlap of their top 20 and top 100. `--artifact` uses a trained artifact (the shipped default,
 * data/models/default/artifact.json) as the first run instead of training it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCsv } from '../src/csv.js';
import { buildCrystalGraph } from '../src/graph/index.js';
import { embedStructures, graphOptions, HYPERPARAMETER_PRESETS, initBackend, loadModel, resolveHyperparameters, type KnagcnModel, type ModelArtifact, type PresetName } from '../src/model/index.js';
import { modelDistanceScale, pairwiseDistances, scoresFromDistanceMatrix } from '../src/scoring/score.js';
import { parseStructure } from '../src/structure/index.js';
import { trainingGraphs } from '../src/training/every-row.js';
import { loadObelixDataset } from '../src/training/obelix-dataset.js';
import { fit } from '../src/training/fit.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seeds = (option('seeds') ?? '1,2').split(',').map(Number);
const presetName = (option('preset') ?? 'default') as PresetName;
const artifactPath = option('artifact');
const DATA = new URL('../data/', import.meta.url).pathname;

await initBackend('auto');
const entries = (await loadObelixDataset(join(DATA, 'obelix'))).filter((e) => e.structure !== null || resolveHyperparameters(HYPERPARAMETER_PRESETS[presetName]).compositionDescriptors);
const pool = parseCsv(await readFile(join(DATA, 'candidates/open_li_pool_v1/manifest.csv'), 'utf8'));
const candidates = pool.map((row) => parseStructure('CIF', readFileSync(join(DATA, 'candidates/open_li_pool_v1/cifs', `${row['id']}.cif`), 'utf8')));
console.log(`${entries.length} labelled rows, ${candidates.length} candidates`);

async function ranking(model: KnagcnModel): Promise<number[]> {
  const h = model.hyperparameters;
  const refs = (await trainingGraphs(entries, entries.map((e) => e.label), { ...h, compositionViews: false })).graphs;
  const all = [...embedStructures(model, refs), ...embedStructures(model, candidates.map((s) => buildCrystalGraph(s, graphOptions(h))))];
  const refIdx = refs.map((_, i) => i);
  const fast = refIdx.filter((i) => entries[i]!.label === 1);
  const poor = refIdx.filter((i) => entries[i]!.label === 0);
  const candidateIdx = candidates.map((_, j) => refs.length + j);
  // The model's own distance scale from its labelled rows, as a trained model gets it (null: plain distances).
  const distanceScale = modelDistanceScale(all.slice(0, refs.length), h);
  return scoresFromDistanceMatrix(pairwiseDistances(all, h.distance), all.length, candidateIdx, fast, poor, { distanceScale }).map((r) => r.score);
}

async function trained(seed: number): Promise<KnagcnModel> {
  const h = resolveHyperparameters({ ...HYPERPARAMETER_PRESETS[presetName], seed });
  const tg = await trainingGraphs(entries, entries.map((e) => e.label), h);
  const started = performance.now();
  const result = await fit(tg.fitGraphs, tg.fitLabels, h);
  console.log(`seed ${seed}: ${result.curve.length} epochs (best ${result.bestEpoch}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result.model;
}

const ranks = (values: readonly number[]) => {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const out = new Array<number>(values.length);
  order.forEach(([, i], r) => (out[i] = r));
  return out;
};
const spearman = (a: readonly number[], b: readonly number[]) => {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
};
const topOverlap = (a: readonly number[], b: readonly number[], k: number) => {
  const top = (v: readonly number[]) => new Set(ranks(v).flatMap((r, i) => (r < k ? [i] : [])));
  const ta = top(a);
  return [...top(b)].filter((i) => ta.has(i)).length;
};

const scores: number[][] = [];
if (artifactPath) {
  const model = loadModel(JSON.parse(readFileSync(artifactPath, 'utf8')) as ModelArtifact);
  console.log(`first run: ${artifactPath} (seed ${model.hyperparameters.seed})`);
  scores.push(await ranking(model));
  model.dispose();
}
for (const seed of seeds.slice(0, artifactPath ? 1 : 2)) {
  const model = await trained(seed);
  scores.push(await ranking(model));
  model.dispose();
}
const [a, b] = scores as [number[], number[]];
console.log(`Spearman ρ between the two candidate rankings: ${spearman(a, b).toFixed(3)}`);
console.log(`top 20 shared: ${topOverlap(a, b, 20)} of 20; top 100 shared: ${topOverlap(a, b, 100)} of 100`);
