/**
 * A compact, seeded random-forest classifier (Breiman 2001, scikit-learn semantics): CART trees
 * with Gini impurity on bootstrap samples, √p candidate features per split, probability =
 * mean over trees of the FAST fraction in the reached leaf. Sized for this project's data
 * (hundreds of rows, ~100 features): 300 trees train in about a second in plain TypeScript,
 * so no npm package is needed.
 *
 * Out-of-bag (OOB) probabilities come for free: each row is scored only by the trees whose
 * bootstrap sample missed it. They stand in for held-out predictions when calibrating a
 * threshold on the training rows (in-bag probabilities are near 0/1 and useless for that).
 */
import { BadInputError } from '../errors.js';
import type { BinaryLabel } from '../domain.js';
import { createRandom, randomInt, type Random } from '../model/random.js';

export interface RandomForestOptions {
  /** Number of trees. Default 300. */
  nTrees?: number;
  /** Candidate features per split. Default round(√p) (scikit-learn's "sqrt"). */
  maxFeatures?: number;
  /** A leaf holds at least this many (bootstrap) rows. Default 1. */
  minSamplesLeaf?: number;
  /** Default unlimited. */
  maxDepth?: number;
  seed?: number;
}

/** One tree in flat arrays; node 0 is the root. A leaf has feature −1. */
interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Fraction of FAST among the (bootstrap) rows in the node. */
  probability: Float64Array;
}

export interface RandomForest {
  readonly nFeatures: number;
  /** P(FAST | x) in [0, 1]. */
  predictProbability(x: ArrayLike<number>): number;
  /** Out-of-bag P(FAST) per training row; NaN for a row that every bootstrap drew. */
  readonly oobProbabilities: Float64Array;
  /** Mean decrease in Gini impurity per feature, normalised to sum 1. */
  readonly featureImportances: Float64Array;
}

export function trainRandomForest(rows: readonly ArrayLike<number>[], labels: readonly BinaryLabel[], options: RandomForestOptions = {}): RandomForest {
  const n = rows.length;
  if (n === 0 || n !== labels.length) throw new BadInputError(`random forest needs equal, non-zero numbers of rows and labels (got ${n}, ${labels.length})`);
  const p = rows[0]!.length;
  if (rows.some((r) => r.length !== p)) throw new BadInputError('random forest rows differ in length');
  const nTrees = options.nTrees ?? 300;
  const maxFeatures = Math.min(p, Math.max(1, options.maxFeatures ?? Math.round(Math.sqrt(p))));
  const minSamplesLeaf = Math.max(1, options.minSamplesLeaf ?? 1);
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const random = createRandom(options.seed ?? 0);

  // Column-major copy [p][n] so a split scan reads one contiguous feature column.
  const columns = Array.from({ length: p }, (_, f) => Float64Array.from(rows, (r) => r[f]!));
  const y = Uint8Array.from(labels);

  const trees: Tree[] = [];
  const oobSum = new Float64Array(n);
  const oobCount = new Uint32Array(n);
  const importances = new Float64Array(p);
  for (let t = 0; t < nTrees; t++) {
    const sample = new Int32Array(n);
    const inBag = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      sample[i] = randomInt(random, n);
      inBag[sample[i]!] = 1;
    }
    const tree = growTree(columns, y, sample, { maxFeatures, minSamplesLeaf, maxDepth, random, importances });
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      if (inBag[i]) continue;
      oobSum[i] += leafProbability(tree, (f) => columns[f]![i]!);
      oobCount[i]++;
    }
  }

  const importanceTotal = importances.reduce((a, b) => a + b, 0);
  const featureImportances = importances.map((v) => (importanceTotal > 0 ? v / importanceTotal : 0));
  return {
    nFeatures: p,
    oobProbabilities: oobSum.map((s, i) => (oobCount[i]! > 0 ? s / oobCount[i]! : Number.NaN)),
    featureImportances,
    predictProbability(x) {
      if (x.length !== p) throw new BadInputError(`expected ${p} features, got ${x.length}`);
      let sum = 0;
      for (const tree of trees) sum += leafProbability(tree, (f) => x[f]!);
      return sum / trees.length;
    },
  };
}

interface GrowOptions {
  maxFeatures: number;
  minSamplesLeaf: number;
  maxDepth: number;
  random: Random;
  importances: Float64Array;
}

function growTree(columns: Float64Array[], y: Uint8Array, sample: Int32Array, options: GrowOptions): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const probability: number[] = [];
  const p = columns.length;
  const featureOrder = Int32Array.from({ length: p }, (_, i) => i);

  // Iterative depth-first growth; each stack item owns a slice of row indices.
  const stack: { node: number; rows: Int32Array; depth: number }[] = [];
  const newNode = (rows: Int32Array): number => {
    let positives = 0;
    for (const r of rows) positives += y[r]!;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    probability.push(positives / rows.length);
    return feature.length - 1;
  };
  stack.push({ node: newNode(sample), rows: sample, depth: 0 });

  while (stack.length > 0) {
    const { node, rows, depth } = stack.pop()!;
    const count = rows.length;
    const positives = Math.round(probability[node]! * count);
    if (positives === 0 || positives === count || depth >= options.maxDepth || count < 2 * options.minSamplesLeaf) continue;

    const parentGini = gini(positives, count);
    let bestGain = 0;
    let bestFeature = -1;
    let bestThreshold = 0;
    // Partial Fisher–Yates: visit features in random order until maxFeatures non-constant ones
    // have been tried (scikit-learn does the same, so a constant feature does not waste a draw).
    let tried = 0;
    for (let k = 0; k < p && tried < options.maxFeatures; k++) {
      const swap = k + randomInt(options.random, p - k);
      [featureOrder[k], featureOrder[swap]] = [featureOrder[swap]!, featureOrder[k]!];
      const f = featureOrder[k]!;
      const column = columns[f]!;
      const sorted = Array.from(rows).sort((a, b) => column[a]! - column[b]!);
      if (column[sorted[0]!] === column[sorted[count - 1]!]) continue;
      tried++;
      let leftPositives = 0;
      for (let i = 0; i < count - 1; i++) {
        leftPositives += y[sorted[i]!]!;
        const leftCount = i + 1;
        const value = column[sorted[i]!]!;
        const next = column[sorted[i + 1]!]!;
        if (value === next || leftCount < options.minSamplesLeaf || count - leftCount < options.minSamplesLeaf) continue;
        const weighted = (leftCount * gini(leftPositives, leftCount) + (count - leftCount) * gini(positives - leftPositives, count - leftCount)) / count;
        const gain = parentGini - weighted;
        if (gain > bestGain + 1e-12) {
          bestGain = gain;
          bestFeature = f;
          // The midpoint of two adjacent floats can round up to `next`; fall back to `value`.
          const middle = (value + next) / 2;
          bestThreshold = middle < next ? middle : value;
        }
      }
    }
    if (bestFeature < 0) continue;

    options.importances[bestFeature] += bestGain * count;
    const column = columns[bestFeature]!;
    const leftRows = rows.filter((r) => column[r]! <= bestThreshold);
    const rightRows = rows.filter((r) => column[r]! > bestThreshold);
    feature[node] = bestFeature;
    threshold[node] = bestThreshold;
    left[node] = newNode(leftRows);
    right[node] = newNode(rightRows);
    stack.push({ node: left[node]!, rows: leftRows, depth: depth + 1 });
    stack.push({ node: right[node]!, rows: rightRows, depth: depth + 1 });
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    probability: Float64Array.from(probability),
  };
}

function leafProbability(tree: Tree, valueOf: (feature: number) => number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) node = valueOf(tree.feature[node]!) <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return tree.probability[node]!;
}

/** Gini impurity of a two-class node: 1 − p² − (1 − p)². */
function gini(positives: number, count: number): number {
  const q = positives / count;
  return 2 * q * (1 - q);
}
