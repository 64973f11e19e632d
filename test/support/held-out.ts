/**
 * An `ionsieve evaluate` output for tests of the held-out figures: a real evaluate() report over the
 * OBELiX rows whose one method is a cheap stand-in with the cross-entropy k = 12 Euclidean variant's
 * name and attributes (scores that separate the classes imperfectly), so no network is fitted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HYPERPARAMETER_PRESETS, type Hyperparameters } from '../../src/model/index.js';
import { evaluate, type EvaluationMethod, type EvaluationReport } from '../../src/training/evaluate.js';
import { loadObelixDataset } from '../../src/training/obelix-dataset.js';

/** The same score for an id whatever the fold: label plus a deterministic spread. */
const noisyScore = (id: string, label: number) => label + 1.5 * (((Number.parseInt(id.replace(/\W/g, '') || '7', 36) * 7919) % 1000) / 1000 - 0.5);

/** A stand-in for the variant of a model with this objective, k and distance (default: cross-entropy, 12, Euclidean). */
export function standIn(h: { objective: string; k: number; distance: 'EUCLIDEAN' | 'COSINE' } = { objective: 'CROSS_ENTROPY', k: 12, distance: 'EUCLIDEAN' }): EvaluationMethod {
  return {
  name: 'stand-in',
  requiresStructure: false,
  async run({ train, test }) {
    return [
      {
        variant: `k-NAGCN ${h.objective === 'CROSS_ENTROPY' ? 'cross-entropy' : h.objective.toLowerCase()} k=${h.k} ${h.distance}`,
        attributes: { objective: h.objective, neighbours: h.k, distance: h.distance },
        testScores: test.map((e) => noisyScore(e.id, e.label)),
        calibrationScores: train.map((e) => noisyScore(e.id, e.label)),
        defaultThreshold: 1,
      },
    ];
  },
  };
}

export const standInMethod = standIn();

export async function standInReport(obelixDir: string, opts: { seeds?: number[]; limit?: number; method?: EvaluationMethod } = {}): Promise<EvaluationReport> {
  const entries = await loadObelixDataset(obelixDir, { structureSource: 'NONE' });
  return evaluate(entries, { protocol: 'GROUP_KFOLD', folds: 5, seeds: opts.seeds ?? [0], limit: opts.limit, methods: [opts.method ?? standInMethod] });
}

/**
 * The evaluate options that name this configuration: the preset it comes from (seed, k, objective
 * and distance aside) and its epoch cap. Null when no preset describes it.
 */
export function evaluateOptionsFor(h: Hyperparameters): Record<string, unknown> | null {
  const free = new Set(['seed', 'k', 'objective', 'distance', 'maxEpochs']);
  for (const [name, preset] of Object.entries(HYPERPARAMETER_PRESETS)) {
    const same = (Object.keys(h) as (keyof Hyperparameters)[]).every((key) => free.has(key) || JSON.stringify(h[key]) === JSON.stringify((preset as Hyperparameters)[key]));
    if (same) return { ...DEFAULT_EVALUATE_OPTIONS, preset: name, epochs: h.maxEpochs };
  }
  return null;
}

/** The options evaluate records for `--methods gnn-ce --preset default` (the default configuration). */
export const DEFAULT_EVALUATE_OPTIONS = { protocol: 'group-kfold', preset: 'default', members: 1, validation: 'crystals' };

/** Writes `{ command, options, report }` as `ionsieve evaluate --out` does; returns the path. */
export function writeEvaluateOutput(dir: string, name: string, report: EvaluationReport, options: Record<string, unknown> = DEFAULT_EVALUATE_OPTIONS): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ command: 'evaluate --methods gnn-ce --preset default --neighbours 12 --distances euclidean', options, report }));
  return file;
}
