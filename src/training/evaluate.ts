/**
 * Evaluation harness: cross-validates any set of scoring methods on the labelled set under one
 * protocol and reports the paper's Table 1 metrics per method variant, over several seeds.
 *
 * Protocols
 * - GROUP_KFOLD (default, 5 folds): grouped folds over all rows (splits.ts: no reduced formula,
 *   and as far as balance allows no family, on both sides). A method that needs a structure
 *   trains and tests on the structure rows of those folds; a composition method uses all rows
 *   and is also reported on the structure rows alone, i.e. on exactly the GNN's test rows.
 * - LOO (the paper's protocol): train on all rows but one and score the one left out. One fit
 *   per row per method; with a GNN that is hundreds of fits, so use `limit` to run it on a
 *   stratified random subset of rows (the subset is then the whole universe: training rows
 *   come from it as well).
 *
 * Per fold each method returns test scores (higher = more FAST-like) and calibration scores for
 * its training rows (leave-self-out or out-of-bag, never in-sample). Metrics are computed on the
 * pooled out-of-fold scores of a seed: at the method's fixed threshold (1 for the distance
 * ratio, 0.5 for probabilities) and at a threshold calibrated per fold on the training rows
 * (maximal balanced accuracy, scoring/threshold.ts). ROC-AUC and PR-AUC do not need a threshold.
 */
import { BadInputError } from '../errors.js';
import { calibrateThreshold } from '../scoring/threshold.js';
import {
  averagePrecision,
  classificationMetrics,
  rocAuc,
  type BinaryLabel,
  type ClassificationMetrics,
} from './metrics.js';
import { groupedRowsOf, type LabelledEntry } from './obelix-dataset.js';
import { groupedKFold, leaveOneOut, stratifiedSubset, type Fold } from './splits.js';

export type EvaluationProtocol = 'GROUP_KFOLD' | 'LOO';

/** Descriptive attributes of a variant, used to lay out tables (e.g. distance × k). */
export interface VariantAttributes {
  distance?: 'EUCLIDEAN' | 'COSINE';
  neighbours?: number;
  objective?: string;
  [key: string]: string | number | undefined;
}

export interface MethodScores {
  /** Unique variant name, e.g. "k-NAGCN contrastive k=12 EUCLIDEAN". */
  variant: string;
  attributes?: VariantAttributes;
  /** One score per test entry, in the order given. Higher = more FAST-like. */
  testScores: readonly number[];
  /** One held-out-like score per training entry (leave-self-out, out-of-bag), for calibration. */
  calibrationScores: readonly number[];
  /** The method's own decision threshold: FAST when score > threshold. */
  defaultThreshold: number;
  /** Per-fold facts worth keeping in the report (best epoch, backend, threads, …). */
  diagnostics?: Record<string, string | number>;
}

export interface MethodRunInput {
  train: readonly LabelledEntry[];
  test: readonly LabelledEntry[];
  seed: number;
  /** Reports progress inside a long step (e.g. training epochs). */
  onStep?: (done: number, total: number, note?: string) => void;
}

export interface EvaluationMethod {
  name: string;
  /** Only rows with a structure are used (trained on and tested). */
  requiresStructure: boolean;
  run(input: MethodRunInput): Promise<MethodScores[]>;
}

export type EvaluationProgress =
  | { kind: 'start'; totalUnits: number }
  | { kind: 'unit-start'; seed: number; fold: number; method: string; unit: number }
  | { kind: 'step'; method: string; done: number; total: number; note?: string }
  | { kind: 'unit-done'; seed: number; fold: number; method: string; unit: number; seconds: number }
  | { kind: 'skip'; seed: number; fold: number; method: string; reason: string };

export interface EvaluationOptions {
  protocol?: EvaluationProtocol;
  /** Folds for GROUP_KFOLD. Default 5. */
  folds?: number;
  /** One full cross-validation per seed (splits and model randomness). Default [0, 1, 2]. */
  seeds?: readonly number[];
  /** Use a stratified random subset of this many rows (drawn with the first seed). */
  limit?: number;
  methods: readonly EvaluationMethod[];
  onProgress?: (event: EvaluationProgress) => void;
}

export type CalibratedMetrics = ClassificationMetrics & { thresholds: number[] };
export type FixedThresholdMetrics = ClassificationMetrics & { threshold: number };

export interface SubsetMetrics {
  n: number;
  /** Pooled over all folds of the seed: also penalises scores that shift from fold to fold. */
  rocAuc: number;
  /** ROC-AUC of each fold on its own, in fold order (NaN where a test fold lacks a class, e.g. LOO). */
  foldRocAuc: number[];
  /** Mean of the finite foldRocAuc values. */
  meanFoldRocAuc: number;
  prAuc: number;
  atDefault: FixedThresholdMetrics;
  atCalibrated: CalibratedMetrics;
}

export interface ScoredRow {
  id: string;
  label: BinaryLabel;
  fold: number;
  score: number;
  threshold: number;
}

export interface FoldRecord {
  fold: number;
  nTest: number;
  calibratedThreshold: number;
  diagnostics?: Record<string, string | number>;
}

export interface SeedResult extends SubsetMetrics {
  seed: number;
  folds: FoldRecord[];

  /** Composition methods only: the same metrics on the rows that have a structure (the GNN's test rows). */
  onStructureRows?: SubsetMetrics;
  scores: ScoredRow[];
}

export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

export interface VariantResult {
  method: string;
  variant: string;
  attributes: VariantAttributes;
  requiresStructure: boolean;
  perSeed: SeedResult[];
  /** mean ± sample sd over seeds of the headline numbers (keys like "rocAuc", "calibrated.balancedAccuracy"). */
  summary: Record<string, MeanSd>;
  /** The same over seeds on the structure rows (composition methods only). */
  summaryOnStructureRows?: Record<string, MeanSd>;
}

export interface SplitSummary {
  seed: number;
  nGroups?: number;
  straddlingFamilies?: string[];
  oversizedFamilies?: string[];
  testSizes: number[];
}

export interface EvaluationReport {
  protocol: EvaluationProtocol;
  folds: number;
  seeds: number[];
  limit: number | null;
  nRows: number;
  nStructureRows: number;
  nFast: number;
  splits: SplitSummary[];
  variants: VariantResult[];
  skipped: { seed: number; fold: number; method: string; reason: string }[];
  durationSeconds: number;
}

export async function evaluate(allEntries: readonly LabelledEntry[], options: EvaluationOptions): Promise<EvaluationReport> {
  const started = Date.now();
  const protocol = options.protocol ?? 'GROUP_KFOLD';
  const seeds = [...(options.seeds ?? [0, 1, 2])];
  const nFolds = options.folds ?? 5;
  if (seeds.length === 0) throw new BadInputError('evaluation needs at least one seed');
  if (options.methods.length === 0) throw new BadInputError('evaluation needs at least one method');
  const emit = options.onProgress ?? (() => {});

  const entries =
    options.limit !== undefined && options.limit < allEntries.length
      ? stratifiedSubset(allEntries.map((e) => e.label), options.limit, seeds[0]!).map((i) => allEntries[i]!)
      : allEntries.slice();

  // Seed → folds over `entries` (row indices).
  const splits: SplitSummary[] = [];
  const foldsBySeed = new Map<number, Fold[]>();
  for (const seed of seeds) {
    if (protocol === 'LOO') {
      const folds = leaveOneOut(entries.length);
      foldsBySeed.set(seed, folds);
      splits.push({ seed, testSizes: folds.map(() => 1) });
    } else {
      const result = groupedKFold(groupedRowsOf(entries), nFolds, seed);
      foldsBySeed.set(seed, result.folds);
      splits.push({
        seed,
        nGroups: result.nGroups,
        straddlingFamilies: result.straddlingFamilies,
        oversizedFamilies: result.oversizedFamilies,
        testSizes: result.folds.map((f) => f.test.length),
      });
    }
  }

  // Accumulated per (variant, seed): fold-wise test scores and thresholds.
  interface FoldScores {
    fold: number;
    rows: number[];
    scores: readonly number[];
    defaultThreshold: number;
    calibratedThreshold: number;
    diagnostics?: Record<string, string | number>;
  }
  const collected = new Map<string, { method: EvaluationMethod; attributes: VariantAttributes; bySeed: Map<number, FoldScores[]> }>();
  const skipped: EvaluationReport['skipped'] = [];

  const eligible = (method: EvaluationMethod, rows: readonly number[]) =>
    method.requiresStructure ? rows.filter((i) => entries[i]!.structure !== null) : rows.slice();
  const units = seeds.reduce((sum, seed) => sum + foldsBySeed.get(seed)!.length, 0) * options.methods.length;
  emit({ kind: 'start', totalUnits: units });
  let unit = 0;

  for (const seed of seeds) {
    for (const fold of foldsBySeed.get(seed)!) {
      for (const method of options.methods) {
        unit++;
        const train = eligible(method, fold.train);
        const test = eligible(method, fold.test);
        const skip = (reason: string) => {
          skipped.push({ seed, fold: fold.index, method: method.name, reason });
          emit({ kind: 'skip', seed, fold: fold.index, method: method.name, reason });
        };
        if (test.length === 0) {
          skip('no eligible test rows');
          continue;
        }
        const trainLabels = train.map((i) => entries[i]!.label);
        if (!trainLabels.includes(0) || !trainLabels.includes(1)) {
          skip('training rows lack a class');
          continue;
        }
        emit({ kind: 'unit-start', seed, fold: fold.index, method: method.name, unit });
        const unitStarted = Date.now();
        let results: MethodScores[];
        try {
          results = await method.run({
            train: train.map((i) => entries[i]!),
            test: test.map((i) => entries[i]!),
            seed,
            onStep: (done, total, note) => emit({ kind: 'step', method: method.name, done, total, note }),
          });
        } catch (error) {
          // Unusable input for this fold (e.g. fewer than 2 FAST training crystals): skip the
          // fold for this method and say so; anything else is a bug and propagates.
          if (!(error instanceof BadInputError)) throw error;
          skip(error.message);
          continue;
        }
        for (const result of results) {
          if (result.testScores.length !== test.length || result.calibrationScores.length !== train.length) {
            throw new BadInputError(`method ${method.name} variant ${result.variant} returned scores of the wrong length`);
          }
          let calibratedThreshold = result.defaultThreshold;
          const usable = result.calibrationScores.flatMap((s, j) => (Number.isNaN(s) ? [] : [j]));
          const usableLabels = usable.map((j) => trainLabels[j]!);
          if (usableLabels.includes(0) && usableLabels.includes(1)) {
            calibratedThreshold = calibrateThreshold(usable.map((j) => result.calibrationScores[j]!), usableLabels).threshold;
          }
          if (!collected.has(result.variant)) {
            collected.set(result.variant, { method, attributes: result.attributes ?? {}, bySeed: new Map() });
          }
          const bySeed = collected.get(result.variant)!.bySeed;
          if (!bySeed.has(seed)) bySeed.set(seed, []);
          bySeed.get(seed)!.push({
            fold: fold.index,
            rows: test,
            scores: result.testScores,
            defaultThreshold: result.defaultThreshold,
            calibratedThreshold,
            diagnostics: result.diagnostics,
          });
        }
        emit({ kind: 'unit-done', seed, fold: fold.index, method: method.name, unit, seconds: (Date.now() - unitStarted) / 1000 });
      }
    }
  }

  const variants: VariantResult[] = [];
  for (const [variant, { method, attributes, bySeed }] of collected) {
    const perSeed: SeedResult[] = [];
    for (const seed of seeds) {
      const folds = bySeed.get(seed);
      if (!folds) continue;
      const scores: ScoredRow[] = folds.flatMap((f) =>
        f.rows.map((row, j) => ({ id: entries[row]!.id, label: entries[row]!.label, fold: f.fold, score: f.scores[j]!, threshold: f.calibratedThreshold })),
      );
      const defaultThreshold = folds[0]!.defaultThreshold;
      const thresholds = folds.map((f) => f.calibratedThreshold);
      const seedResult: SeedResult = {
        seed,
        ...subsetMetrics(scores, defaultThreshold, thresholds),
        folds: folds.map((f) => ({ fold: f.fold, nTest: f.rows.length, calibratedThreshold: f.calibratedThreshold, diagnostics: f.diagnostics })),
        scores,
      };
      if (!method.requiresStructure) {
        const structureIds = new Set(entries.filter((e) => e.hasStructure).map((e) => e.id));
        const onStructure = scores.filter((s) => structureIds.has(s.id));
        if (onStructure.length > 0 && onStructure.length < scores.length) {
          seedResult.onStructureRows = subsetMetrics(onStructure, defaultThreshold, thresholds);
        }
      }
      perSeed.push(seedResult);
    }
    const result: VariantResult = { method: method.name, variant, attributes, requiresStructure: method.requiresStructure, perSeed, summary: summarise(perSeed) };
    if (perSeed.every((s) => s.onStructureRows !== undefined)) result.summaryOnStructureRows = summarise(perSeed.map((s) => s.onStructureRows!));
    variants.push(result);
  }

  return {
    protocol,
    folds: protocol === 'LOO' ? entries.length : nFolds,
    seeds,
    limit: options.limit ?? null,
    nRows: entries.length,
    nStructureRows: entries.filter((e) => e.hasStructure).length,
    nFast: entries.filter((e) => e.label === 1).length,
    splits,
    variants,
    skipped,
    durationSeconds: (Date.now() - started) / 1000,
  };
}

/** Pooled metrics of out-of-fold scores; each row carries its own fold's calibrated threshold. */
function subsetMetrics(scores: readonly ScoredRow[], defaultThreshold: number, thresholds: number[]): SubsetMetrics {
  const labels = scores.map((s) => s.label);
  const values = scores.map((s) => s.score);
  const foldIds = [...new Set(scores.map((s) => s.fold))].sort((a, b) => a - b);
  const foldRocAuc = foldIds.map((fold) => {
    const inFold = scores.filter((s) => s.fold === fold);
    return rocAuc(inFold.map((s) => s.score), inFold.map((s) => s.label));
  });
  return {
    n: scores.length,
    rocAuc: rocAuc(values, labels),
    foldRocAuc,
    meanFoldRocAuc: meanSd(foldRocAuc).mean,
    prAuc: averagePrecision(values, labels),
    atDefault: { ...classificationMetrics(scores.map((s) => (s.score > defaultThreshold ? 1 : 0)), labels), threshold: defaultThreshold },
    atCalibrated: { ...classificationMetrics(scores.map((s) => (s.score > s.threshold ? 1 : 0)), labels), thresholds },
  };
}

/** Headline numbers, as they appear in tables. */
export const SUMMARY_KEYS = [
  'rocAuc',
  'meanFoldRocAuc',
  'prAuc',
  'default.accuracy',
  'default.sensitivity',
  'default.specificity',
  'default.balancedAccuracy',
  'calibrated.accuracy',
  'calibrated.sensitivity',
  'calibrated.specificity',
  'calibrated.balancedAccuracy',
] as const;

function headline(m: SubsetMetrics, key: (typeof SUMMARY_KEYS)[number]): number {
  switch (key) {
    case 'rocAuc':
      return m.rocAuc;
    case 'meanFoldRocAuc':
      return m.meanFoldRocAuc;
    case 'prAuc':
      return m.prAuc;
    default: {
      const [which, name] = key.split('.') as ['default' | 'calibrated', keyof ClassificationMetrics];
      return (which === 'default' ? m.atDefault : m.atCalibrated)[name];
    }
  }
}

function summarise(results: readonly SubsetMetrics[]): Record<string, MeanSd> {
  return Object.fromEntries(SUMMARY_KEYS.map((key) => [key, meanSd(results.map((r) => headline(r, key)))]));
}

/**
 * One report from runs of the same evaluation with different seeds (e.g. run side by side on two
 * cores): per-seed results and splits joined in seed order, summaries recomputed over all seeds.
 * Refuses runs that differ in anything but their seeds, or that share a seed.
 */
export function mergeReports(reports: readonly EvaluationReport[]): EvaluationReport {
  if (reports.length === 0) throw new BadInputError('nothing to merge');
  const [first] = reports as [EvaluationReport, ...EvaluationReport[]];
  const seeds = reports.flatMap((r) => r.seeds);
  const repeated = seeds.filter((s, i) => seeds.indexOf(s) !== i);
  if (repeated.length > 0) throw new BadInputError(`the runs share seed(s) ${[...new Set(repeated)].join(', ')}`);
  const shape = (r: EvaluationReport) => JSON.stringify([r.protocol, r.folds, r.limit, r.nRows, r.nStructureRows, r.nFast, r.variants.map((v) => v.variant)]);
  reports.forEach((r, i) => {
    if (shape(r) !== shape(first)) throw new BadInputError(`run ${i + 1} is not the same evaluation as run 1 (protocol, folds, rows or variants differ)`);
  });
  const bySeed = <T extends { seed: number }>(a: T, b: T) => a.seed - b.seed;
  const variants = first.variants.map((v, i) => {
    const perSeed = reports.flatMap((r) => r.variants[i]!.perSeed).sort(bySeed);
    const merged: VariantResult = { ...v, perSeed, summary: summarise(perSeed) };
    delete merged.summaryOnStructureRows;
    if (perSeed.every((s) => s.onStructureRows !== undefined)) merged.summaryOnStructureRows = summarise(perSeed.map((s) => s.onStructureRows!));
    return merged;
  });
  return {
    ...first,
    seeds: [...seeds].sort((a, b) => a - b),
    splits: reports.flatMap((r) => r.splits).sort(bySeed),
    variants,
    skipped: reports.flatMap((r) => r.skipped),
    durationSeconds: reports.reduce((sum, r) => sum + r.durationSeconds, 0),
  };
}

/** Mean and sample standard deviation (n − 1) of the finite values; sd 0 for a single value. */
export function meanSd(values: readonly number[]): MeanSd {
  const finite = values.filter((v) => Number.isFinite(v));
  const n = finite.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/** A Markdown table of every variant: mean ± sd over seeds of the headline metrics. */
export function formatResultsTable(report: EvaluationReport, options: { onStructureRows?: boolean } = {}): string {
  const columns: [string, (typeof SUMMARY_KEYS)[number]][] = [
    ['ROC-AUC', 'rocAuc'],
    ['ROC-AUC (fold mean)', 'meanFoldRocAuc'],
    ['PR-AUC', 'prAuc'],
    ['Acc', 'default.accuracy'],
    ['Sens', 'default.sensitivity'],
    ['Spec', 'default.specificity'],
    ['BA', 'default.balancedAccuracy'],
    ['Acc (cal)', 'calibrated.accuracy'],
    ['Sens (cal)', 'calibrated.sensitivity'],
    ['Spec (cal)', 'calibrated.specificity'],
    ['BA (cal)', 'calibrated.balancedAccuracy'],
  ];
  const lines = [`| Variant | n | ${columns.map(([title]) => title).join(' | ')} |`, `|---|---|${columns.map(() => '---').join('|')}|`];
  for (const v of report.variants) {
    const summary = options.onStructureRows ? v.summaryOnStructureRows : v.summary;
    if (!summary) continue;
    const n = options.onStructureRows ? v.perSeed[0]?.onStructureRows?.n : v.perSeed[0]?.n;
    lines.push(`| ${v.variant} | ${n ?? '?'} | ${columns.map(([, key]) => formatMeanSd(summary[key]!)).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function formatMeanSd(value: MeanSd): string {
  if (value.n === 0) return 'n/a';
  return value.n > 1 ? `${value.mean.toFixed(3)} ± ${value.sd.toFixed(3)}` : value.mean.toFixed(3);
}
