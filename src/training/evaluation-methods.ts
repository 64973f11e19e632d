/**
 * The methods the evaluation compares (see evaluate.ts for the protocol):
 * - composition-only baselines (random forest, kNN) on Magpie-like descriptors: every row,
 *   including the 224 OBELiX rows without a structure;
 * - the k-NAGCN metric-learning model (contrastive objective) scored by the distance ratio, for
 *   each distance × k of the paper's Table 1, and the same backbone trained with cross-entropy.
 */
import { compositionFeatures, ELEMENT_TABLE_PROPERTIES, type ElementPropertySource } from '../features/composition-features.js';
import { trainKnn } from '../baselines/knn.js';
import { trainRandomForest } from '../baselines/random-forest.js';
import { BadInputError } from '../errors.js';
import { buildCrystalGraph, compositionOnlyGraph, formulaViewOf, type CrystalGraph, type CrystalGraphOptions } from '../graph/index.js';
import { classifyStructures, embedStructures, graphOptions, HYPERPARAMETER_PRESETS, resolveHyperparameters, type Hyperparameters, type PresetName, type TrainingObjective } from '../model/index.js';
import { modelDistanceScale, pairwiseDistances, scoresFromDistanceMatrix, type DistanceMetric } from '../scoring/score.js';
import { DEFAULT_THRESHOLD } from '../scoring/threshold.js';
import type { EvaluationMethod, MethodRunInput, MethodScores } from './evaluate.js';
import { fit, type FitResult, type ValidationSpec } from './train.js';
import type { LabelledEntry } from './obelix-dataset.js';

export interface RandomForestMethodOptions {
  nTrees?: number;
  properties?: ElementPropertySource;
}

/** P(FAST) of a composition random forest; calibration on out-of-bag probabilities. */
export function compositionRandomForestMethod(options: RandomForestMethodOptions = {}): EvaluationMethod {
  const nTrees = options.nTrees ?? 300;
  const featurise = compositionFeaturiser(options.properties);
  return {
    name: 'composition-rf',
    requiresStructure: false,
    async run({ train, test, seed }) {
      const forest = trainRandomForest(train.map(featurise), train.map((e) => e.label), { nTrees, seed });
      return [
        {
          variant: `Composition RF (${nTrees} trees)`,
          attributes: { objective: 'random-forest' },
          testScores: test.map((e) => forest.predictProbability(featurise(e))),
          calibrationScores: Array.from(forest.oobProbabilities),
          defaultThreshold: 0.5,
        },
      ];
    },
  };
}

export interface KnnMethodOptions {
  k?: number;
  properties?: ElementPropertySource;
}

/** FAST fraction among the k nearest compositions; calibration on leave-self-out fractions. */
export function compositionKnnMethod(options: KnnMethodOptions = {}): EvaluationMethod {
  const k = options.k ?? 5;
  const featurise = compositionFeaturiser(options.properties);
  return {
    name: 'composition-knn',
    requiresStructure: false,
    async run({ train, test }) {
      const knn = trainKnn(train.map(featurise), train.map((e) => e.label), { k });
      return [
        {
          variant: `Composition kNN (k=${k})`,
          attributes: { objective: 'knn' },
          testScores: test.map((e) => knn.predictProbability(featurise(e))),
          calibrationScores: Array.from(knn.leaveSelfOutProbabilities),
          defaultThreshold: 0.5,
        },
      ];
    },
  };
}

/** Descriptors are pure functions of the composition: cache them per entry across folds. */
function compositionFeaturiser(properties: ElementPropertySource = ELEMENT_TABLE_PROPERTIES): (entry: LabelledEntry) => Float64Array {
  const cache = new WeakMap<LabelledEntry, Float64Array>();
  return (entry) => {
    let features = cache.get(entry);
    if (!features) {
      features = compositionFeatures(entry.amounts, properties);
      cache.set(entry, features);
    }
    return features;
  };
}

export interface GnnMethodOptions {
  /** The metric-learning model (contrastive objective), one fit per neighbour count. */
  contrastive: boolean;
  /** The same backbone trained with cross-entropy (k = the largest neighbour count). */
  crossEntropy: boolean;
  /** The JOINT objective (contrastive + crossEntropyWeight · cross-entropy), one fit per neighbour count. */
  joint?: boolean;
  /** Neighbour counts k (paper: 4, 8, 12). */
  neighbours: readonly number[];
  /** Distances of the ratio score (paper: Euclidean and cosine). */
  distances: readonly DistanceMetric[];
  /** Hyperparameter preset name (HYPERPARAMETER_PRESETS); default "paper". */
  preset?: string;
  /** Caps the preset's maxEpochs (cheap runs). */
  maxEpochs?: number;
  /** Further hyperparameter overrides (tests: tiny widths). */
  overrides?: Partial<Hyperparameters>;
  /**
   * Cross-entropy only: an ensemble of this many fits per fold (seeds seed, seed + 1000, …), scored
   * by the distance ratio on the members' embeddings concatenated, each scaled by 1/√members (so a
   * Euclidean distance is the root mean square of the members' distances); the first member alone
   * is reported beside it. 1 (default): one fit, with its P(FAST) too.
   */
  members?: number;
  /**
   * Early stopping inside the training folds. Default: 10 % of the training crystals held out
   * (fit's leakage-free default); the test fold is never seen by training. 'pairs' (the paper's)
   * applies to the contrastive model only; the cross-entropy model then holds out crystals.
   */
  validation?: ValidationSpec;
}

/**
 * k-NAGCN methods. Per fold and neighbour count: build the crystal graphs (cached per entry),
 * fit on the training rows' structures, embed training and test crystals (inference mode), and
 * score each test crystal by the distance ratio against all training crystals as references
 * (the paper's rule; FAST above 1). Calibration scores are the leave-self-out ratios of the
 * training crystals. Note that the training embeddings are in-sample (the loss pulled them
 * into their class clusters), so the calibrated threshold can lean optimistic; the test scores
 * are unaffected.
 *
 * The cross-entropy model is reported twice: by its classifier's P(FAST) (calibrated on fit's
 * early-stopping held-out crystals, the only training rows it did not fit) and by the same
 * distance ratio on its penultimate embedding.
 */
export function gnnMethods(options: GnnMethodOptions): EvaluationMethod[] {
  const presetName = options.preset ?? 'paper';
  const preset = Object.hasOwn(HYPERPARAMETER_PRESETS, presetName) ? HYPERPARAMETER_PRESETS[presetName as PresetName] : undefined;
  if (!preset) throw new BadInputError(`unknown hyperparameter preset "${presetName}" (known: ${Object.keys(HYPERPARAMETER_PRESETS).join(', ')})`);
  if (options.neighbours.length === 0) throw new BadInputError('at least one neighbour count is needed');
  const base: Partial<Hyperparameters> = {
    ...preset,
    ...(options.maxEpochs !== undefined ? { maxEpochs: options.maxEpochs } : {}),
    ...options.overrides,
  };
  const graphsFor = crystalGraphCache();
  const methods: EvaluationMethod[] = [];

  const trainAndEmbed = async (objective: TrainingObjective, k: number, { train, test, seed, onStep }: MethodRunInput) => {
    const trainGraphs = train.map((e) => graphsFor(e, { k }));
    const testGraphs = test.map((e) => graphsFor(e, { k }));
    const fitStarted = performance.now();
    const result = await fit(
      trainGraphs,
      train.map((e) => e.label),
      { ...base, k, objective, seed },
      {
        // The paper's pair split has no held-out crystals, which a classifier needs to early-stop.
        validation: objective !== 'CONTRASTIVE' && options.validation?.mode === 'pairs' ? { mode: 'crystals', fraction: 0.1 } : options.validation,
        onEpoch: (p) => onStep?.(p.epoch, p.maxEpochs, `${objective.toLowerCase()} k=${k} loss ${p.trainLoss.toFixed(3)}/${p.validationLoss.toFixed(3)}`),
      },
    );
    return { result, trainGraphs, testGraphs, fitSeconds: (performance.now() - fitStarted) / 1000 };
  };

  const fitDiagnostics = (result: FitResult, fitSeconds: number) => ({
    bestEpoch: result.bestEpoch,
    epochsRun: result.curve.length,
    backend: result.backend,
    threads: result.threads,
    blasThreads: result.blasThreads,
    fitSeconds: Math.round(fitSeconds * 10) / 10,
  });

  const ratioVariants = (
    label: string,
    k: number,
    objective: string,
    trainEmbeddings: Float32Array[],
    testEmbeddings: Float32Array[],
    train: readonly LabelledEntry[],
    diagnostics: Record<string, string | number>,
  ): MethodScores[] => {
    const all = [...trainEmbeddings, ...testEmbeddings];
    const n = all.length;
    const trainIdx = [...trainEmbeddings.keys()];
    const testIdx = testEmbeddings.map((_, j) => trainEmbeddings.length + j);
    const fast = trainIdx.filter((i) => train[i]!.label === 1);
    const poor = trainIdx.filter((i) => train[i]!.label === 0);
    return options.distances.map((distance) => {
      const matrix = pairwiseDistances(all, distance);
      return {
        variant: `${label} k=${k} ${distance}`,
        attributes: { distance, neighbours: k, objective },
        testScores: scoresFromDistanceMatrix(matrix, n, testIdx, fast, poor).map((r) => r.score),
        calibrationScores: scoresFromDistanceMatrix(matrix, n, trainIdx, fast, poor, { excludeSelf: true }).map((r) => r.score),
        defaultThreshold: DEFAULT_THRESHOLD,
        diagnostics,
      };
    });
  };

  if (options.contrastive) {
    for (const k of options.neighbours) {
      methods.push({
        name: `knagcn-contrastive-k${k}`,
        requiresStructure: true,
        async run(input) {
          const { result, trainGraphs, testGraphs, fitSeconds } = await trainAndEmbed('CONTRASTIVE', k, input);
          try {
            return ratioVariants(
              'k-NAGCN contrastive',
              k,
              'CONTRASTIVE',
              embedStructures(result.model, trainGraphs),
              embedStructures(result.model, testGraphs),
              input.train,
              fitDiagnostics(result, fitSeconds),
            );
          } finally {
            result.model.dispose();
          }
        },
      });
    }
  }
  if (options.joint) {
    for (const k of options.neighbours) {
      methods.push({
        name: `knagcn-joint-k${k}`,
        requiresStructure: true,
        async run(input) {
          const { result, trainGraphs, testGraphs, fitSeconds } = await trainAndEmbed('JOINT', k, input);
          try {
            const heldOut = new Set(result.heldOutCrystals);
            const diagnostics = fitDiagnostics(result, fitSeconds);
            return [
              // The product scores by the distance ratio; P(FAST) of the joint model's head is for comparison.
              ...ratioVariants('k-NAGCN joint', k, 'JOINT', embedStructures(result.model, trainGraphs), embedStructures(result.model, testGraphs), input.train, diagnostics),
              {
                variant: `k-NAGCN joint k=${k} P(FAST)`,
                attributes: { neighbours: k, objective: 'JOINT' },
                testScores: Array.from(classifyStructures(result.model, testGraphs)),
                calibrationScores: Array.from(classifyStructures(result.model, trainGraphs), (p, i) => (heldOut.has(i) ? p : Number.NaN)),
                defaultThreshold: 0.5,
                diagnostics,
              },
            ];
          } finally {
            result.model.dispose();
          }
        },
      });
    }
  }
  const members = options.members ?? 1;
  if (!Number.isInteger(members) || members < 1) throw new BadInputError(`members must be a positive integer, got ${members}`);
  if (options.crossEntropy && members > 1) {
    const k = Math.max(...options.neighbours);
    methods.push({
      name: `knagcn-cross-entropy-k${k}-ensemble${members}`,
      requiresStructure: true,
      async run(input) {
        const trainParts: Float32Array[][] = [];
        const testParts: Float32Array[][] = [];
        const fits: Record<string, string | number>[] = [];
        for (let m = 0; m < members; m++) {
          const { result, trainGraphs, testGraphs, fitSeconds } = await trainAndEmbed('CROSS_ENTROPY', k, { ...input, seed: input.seed + 1000 * m });
          try {
            trainParts.push(embedStructures(result.model, trainGraphs));
            testParts.push(embedStructures(result.model, testGraphs));
            fits.push(fitDiagnostics(result, fitSeconds));
          } finally {
            result.model.dispose();
          }
        }
        const scale = 1 / Math.sqrt(members);
        const concatenate = (parts: Float32Array[][], i: number) => {
          const dim = parts.reduce((sum, p) => sum + p[i]!.length, 0);
          const out = new Float32Array(dim);
          let offset = 0;
          for (const p of parts) {
            for (let j = 0; j < p[i]!.length; j++) out[offset + j] = p[i]![j]! * scale;
            offset += p[i]!.length;
          }
          return out;
        };
        const diagnostics = {
          members,
          bestEpochs: fits.map((f) => f.bestEpoch).join(','),
          fitSeconds: fits.reduce((sum, f) => sum + Number(f.fitSeconds), 0),
          backend: String(fits[0]!.backend),
        };
        return [
          // The first member alone is the single model of the same seed: a paired comparison for free.
          ...ratioVariants('k-NAGCN cross-entropy', k, 'CROSS_ENTROPY', trainParts[0]!, testParts[0]!, input.train, fits[0]!),
          ...ratioVariants(
            `k-NAGCN cross-entropy ensemble of ${members}`,
            k,
            'CROSS_ENTROPY',
            input.train.map((_, i) => concatenate(trainParts, i)),
            input.test.map((_, i) => concatenate(testParts, i)),
            input.train,
            diagnostics,
          ),
        ];
      },
    });
  } else if (options.crossEntropy) {
    const k = Math.max(...options.neighbours);
    methods.push({
      name: `knagcn-cross-entropy-k${k}`,
      requiresStructure: true,
      async run(input) {
        const { result, trainGraphs, testGraphs, fitSeconds } = await trainAndEmbed('CROSS_ENTROPY', k, input);
        try {
          const heldOut = new Set(result.heldOutCrystals);
          const trainProbabilities = classifyStructures(result.model, trainGraphs);
          return [
            {
              variant: `k-NAGCN cross-entropy k=${k} P(FAST)`,
              attributes: { neighbours: k, objective: 'CROSS_ENTROPY' },
              testScores: Array.from(classifyStructures(result.model, testGraphs)),
              calibrationScores: Array.from(trainProbabilities, (p, i) => (heldOut.has(i) ? p : Number.NaN)),
              defaultThreshold: 0.5,
              diagnostics: fitDiagnostics(result, fitSeconds),
            },
            ...ratioVariants(
              'k-NAGCN cross-entropy',
              k,
              'CROSS_ENTROPY',
              embedStructures(result.model, trainGraphs),
              embedStructures(result.model, testGraphs),
              input.train,
              fitDiagnostics(result, fitSeconds),
            ),
          ];
        } finally {
          result.model.dispose();
        }
      },
    });
  }
  return methods;
}

/** [a_i, b_i] / √2 per row (as an ensemble joins its members). */
function joinViews(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array[] {
  return a.map((x, i) => {
    const y = b[i]!;
    const joined = new Float32Array(x.length + y.length);
    for (let j = 0; j < x.length; j++) joined[j] = x[j]! * Math.SQRT1_2;
    for (let j = 0; j < y.length; j++) joined[x.length + j] = y[j]! * Math.SQRT1_2;
    return joined;
  });
}

/** Graphs depend only on the structure and the graph options: build each once per evaluation. */
function crystalGraphCache(): (entry: LabelledEntry, options: CrystalGraphOptions) => CrystalGraph {
  const cache = new WeakMap<LabelledEntry, Map<string, CrystalGraph>>();
  return (entry, options) => {
    if (entry.structure === null) throw new BadInputError(`entry ${entry.id} has no structure`);
    let byOptions = cache.get(entry);
    if (!byOptions) cache.set(entry, (byOptions = new Map()));
    const key = JSON.stringify(options);
    let graph = byOptions.get(key);
    if (!graph) byOptions.set(key, (graph = buildCrystalGraph(entry.structure, options)));
    return graph;
  };
}

export interface EveryRowMethodOptions {
  /** Hyperparameter preset (default "default"). */
  preset?: string;
  maxEpochs?: number;
  overrides?: Partial<Hyperparameters>;
  validation?: ValidationSpec;
  /** Train and score every row by its formula alone: the composition pathway on its own. */
  formulasOnly?: boolean;
}

/**
 * One model over every labelled row: structures through the graph network, composition-only rows
 * (and, with `compositionViews`, a composition-only copy of each structure row) through the
 * composition pathway, in one embedding space. Every test row is scored by the distance ratio
 * against every training row as a reference (structure rows by their structure, the others by
 * their composition) — the same rule screening applies. P(FAST) of the head is reported beside it.
 */
export function everyRowMethod(options: EveryRowMethodOptions = {}): EvaluationMethod {
  const presetName = options.preset ?? 'default';
  const preset = Object.hasOwn(HYPERPARAMETER_PRESETS, presetName) ? HYPERPARAMETER_PRESETS[presetName as PresetName] : undefined;
  if (!preset) throw new BadInputError(`unknown hyperparameter preset "${presetName}" (known: ${Object.keys(HYPERPARAMETER_PRESETS).join(', ')})`);
  const base = resolveHyperparameters({ ...preset, ...(options.maxEpochs !== undefined ? { maxEpochs: options.maxEpochs } : {}), ...options.overrides });
  if (base.backbone !== 'knagcn-smooth' || !base.compositionDescriptors) throw new BadInputError('every-row evaluation needs the knagcn-smooth backbone with composition descriptors');
  const formulasOnly = options.formulasOnly ?? false;
  const views = base.compositionViews && !formulasOnly;
  const graphsFor = crystalGraphCache();
  const structureGraph = (e: LabelledEntry) => graphsFor(e, graphOptions(base));
  const compositionGraph = new WeakMap<LabelledEntry, CrystalGraph>();
  const graphOf = (e: LabelledEntry, asComposition = false): CrystalGraph => {
    if (e.structure !== null && !asComposition && !formulasOnly) return structureGraph(e);
    let g = compositionGraph.get(e);
    if (!g) compositionGraph.set(e, (g = compositionOnlyGraph(e.amounts, base.k)));
    return g;
  };
  const label = `every-row ${formulasOnly ? 'formulas only ' : ''}${base.members > 1 ? `ensemble of ${base.members} ` : ''}k=${base.k}`;
  return {
    name: `every-row${formulasOnly ? '-formulas' : ''}-k${base.k}-m${base.members}`,
    requiresStructure: false,
    async run({ train, test, seed, onStep }) {
      const graphs = train.map((e) => graphOf(e));
      const labels: number[] = train.map((e) => e.label);
      if (views) {
        for (const e of train) {
          if (e.structure === null) continue;
          graphs.push(graphOf(e, true));
          labels.push(e.label);
        }
      }
      const started = performance.now();
      const result = await fit(graphs, labels, { ...base, seed }, {
        validation: options.validation,
        onEpoch: (p) => onStep?.(p.epoch, p.maxEpochs, `${label} loss ${p.trainLoss.toFixed(3)}/${p.validationLoss.toFixed(3)}`),
      });
      try {
        const diagnostics = {
          bestEpoch: result.bestEpoch,
          epochsRun: result.curve.length,
          backend: result.backend,
          fitSeconds: Math.round((performance.now() - started) / 100) / 10,
        };
        const trainGraphs = train.map((e) => graphOf(e));
        const testGraphs = test.map((e) => graphOf(e));
        const trainEmbeddings = embedStructures(result.model, trainGraphs);
        const testEmbeddings = embedStructures(result.model, testGraphs);
        const all = [...trainEmbeddings, ...testEmbeddings];
        const trainIdx = [...trainEmbeddings.keys()];
        const testIdx = testEmbeddings.map((_, j) => trainEmbeddings.length + j);
        const fast = trainIdx.filter((i) => train[i]!.label === 1);
        const poor = trainIdx.filter((i) => train[i]!.label === 0);
        const matrix = pairwiseDistances(all, base.distance);
        // The fold's model gets its own distance scale from its training rows, as a trained model does.
        const distanceScale = modelDistanceScale(trainEmbeddings, base);
        const bounded = { distanceScale };
        const heldOut = new Set(result.heldOutCrystals);
        // The same rows embedded from their formulas alone: a formula-only query scored against
        // references in its own modality (and every row as a formula, for comparison).
        const trainFormulas = embedStructures(result.model, train.map((e) => graphOf(e, true)));
        const testFormulas = embedStructures(result.model, test.map((e) => graphOf(e, true)));
        const formulaAll = [...trainFormulas, ...testFormulas];
        const formulaMatrix = pairwiseDistances(formulaAll, base.distance);
        const formulaScores = scoresFromDistanceMatrix(formulaMatrix, formulaAll.length, testIdx, fast, poor, bounded).map((r) => r.score);
        const formulaCalibration = scoresFromDistanceMatrix(formulaMatrix, formulaAll.length, trainIdx, fast, poor, { excludeSelf: true, distanceScale }).map((r) => r.score);
        // Each row's structure view joined with its formula view ([s, f] / √2: a Euclidean distance is the
        // RMS of the two views' distances), the formula view of a structure row from its own graph's
        // descriptors. Measured in session 10 and not adopted: no better than the structure view alone.
        const joinedAll = joinViews(all, embedStructures(result.model, [...trainGraphs, ...testGraphs].map(formulaViewOf)));
        const joinedMatrix = pairwiseDistances(joinedAll, base.distance);
        const joinedScale = modelDistanceScale(joinedAll.slice(0, train.length), base);
        const structureFast = fast.filter((i) => train[i]!.structure !== null);
        const structurePoor = poor.filter((i) => train[i]!.structure !== null);
        const nativeScores = scoresFromDistanceMatrix(matrix, all.length, testIdx, fast, poor, bounded).map((r) => r.score);
        const nativeCalibration = scoresFromDistanceMatrix(matrix, all.length, trainIdx, fast, poor, { excludeSelf: true, distanceScale }).map((r) => r.score);
        return [
          {
            variant: `${label} ratio ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: nativeScores,
            calibrationScores: nativeCalibration,
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          ...(distanceScale === null
            ? []
            : [
                {
                  // The same embeddings with plain distances (distanceScaleQuantile null), for comparison.
                  variant: `${label} ratio plain distances ${base.distance}`,
                  attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
                  testScores: scoresFromDistanceMatrix(matrix, all.length, testIdx, fast, poor).map((r) => r.score),
                  calibrationScores: scoresFromDistanceMatrix(matrix, all.length, trainIdx, fast, poor, { excludeSelf: true }).map((r) => r.score),
                  defaultThreshold: DEFAULT_THRESHOLD,
                  diagnostics,
                },
              ]),
          {
            variant: `${label} ratio NEAREST(10) ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            // The product's NEAREST(10) rule (scoring/score.ts), so the figures are the ones it would give.
            testScores: scoresFromDistanceMatrix(matrix, all.length, testIdx, fast, poor, { nearestK: 10, distanceScale }).map((r) => r.score),
            calibrationScores: scoresFromDistanceMatrix(matrix, all.length, trainIdx, fast, poor, { nearestK: 10, excludeSelf: true, distanceScale }).map((r) => r.score),
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            variant: `${label} ratio, structure and formula views joined ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: scoresFromDistanceMatrix(joinedMatrix, joinedAll.length, testIdx, fast, poor, { distanceScale: joinedScale }).map((r) => r.score),
            calibrationScores: scoresFromDistanceMatrix(joinedMatrix, joinedAll.length, trainIdx, fast, poor, { excludeSelf: true, distanceScale: joinedScale }).map((r) => r.score),
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            variant: `${label} ratio NEAREST(10), structure and formula views joined ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: scoresFromDistanceMatrix(joinedMatrix, joinedAll.length, testIdx, fast, poor, { nearestK: 10, distanceScale: joinedScale }).map((r) => r.score),
            calibrationScores: scoresFromDistanceMatrix(joinedMatrix, joinedAll.length, trainIdx, fast, poor, { nearestK: 10, excludeSelf: true, distanceScale: joinedScale }).map((r) => r.score),
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            variant: `${label} ratio, formula-only queries vs formula references ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: test.map((e, j) => (e.structure ? nativeScores[j]! : formulaScores[j]!)),
            calibrationScores: train.map((e, i) => (e.structure ? nativeCalibration[i]! : formulaCalibration[i]!)),
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            // Each kind against its own kind of reference: structures vs structure rows, formulas vs every row's formula.
            variant: `${label} ratio, each kind vs its own references ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: test.map((e, j) =>
              e.structure ? scoresFromDistanceMatrix(matrix, all.length, [testIdx[j]!], structureFast, structurePoor, bounded)[0]!.score : formulaScores[j]!,
            ),
            calibrationScores: train.map((e, i) =>
              e.structure ? scoresFromDistanceMatrix(matrix, all.length, [i], structureFast, structurePoor, { excludeSelf: true, distanceScale })[0]!.score : formulaCalibration[i]!,
            ),
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            variant: `${label} ratio, every row as a formula ${base.distance}`,
            attributes: { distance: base.distance, neighbours: base.k, objective: base.objective },
            testScores: formulaScores,
            calibrationScores: formulaCalibration,
            defaultThreshold: DEFAULT_THRESHOLD,
            diagnostics,
          },
          {
            variant: `${label} P(FAST)`,
            attributes: { neighbours: base.k, objective: base.objective },
            testScores: Array.from(classifyStructures(result.model, testGraphs)),
            calibrationScores: Array.from(classifyStructures(result.model, trainGraphs), (p, i) => (heldOut.has(i) ? p : Number.NaN)),
            defaultThreshold: 0.5,
            diagnostics,
          },
        ];
      } finally {
        result.model.dispose();
      }
    },
  };
}
