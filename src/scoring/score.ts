/**
 * The conductor score: the one place where an embedding is turned into "how conductor-like".
 * Used by the server (screening), the trainer (evaluation) and the tests.
 *
 * For a query embedding q, a set H of fast-conductor references (N of them) and a set P of
 * poor-conductor references (M of them):
 *
 *     R(q) = mean_{p∈P} d(q, p) / mean_{h∈H} d(q, h)
 *
 * Higher R = closer to the fast conductors than to the poor ones = more conductor-like.
 * Note: Eq. 2 of the contrastive-metric-learning paper prints the inverse ratio
 * (mean distance to H over mean distance to P), while its text says "a higher R means a
 * conductor". We follow the text, so R > 1 reads "FAST" at the default threshold.
 *
 * Edge cases (documented because embeddings can coincide exactly, e.g. duplicate crystals):
 * - mean distance to fast = 0 and to poor > 0 → R = +Infinity (the query sits on the fast set);
 * - both means = 0 → R = 1 (no evidence either way).
 * Empty reference sets are an error for the direct form; the incremental form returns null.
 *
 * Bounded distances. A model may carry a distance scale s (its `distanceScale`); the means above
 * then average the bounded distance 1 − exp(−d/s) instead of d itself. Far references saturate near 1
 * and stop dominating the means, so R reflects the references around the query rather than the
 * overall spread of each class — in grouped cross-validation this ranked new compositions markedly
 * better than plain d (docs/RESULTS.md, "Bounded distances"). 1 − exp(−d/s) is itself a metric
 * (a concave, increasing function of a metric with f(0) = 0), and it orders neighbours exactly as d
 * does, so similarity search is unchanged. s = null keeps the plain distance (the paper's reading).
 */
import { BadInputError } from '../errors.js';

import type { DistanceMetric, LabelClass } from '../domain.js';

export type { DistanceMetric, LabelClass };
/** An embedding vector, [E] (Float32Array from the model, number[] from the database). */
export type Embedding = ArrayLike<number>;

export interface ScoreResult {
  /** R(q) = meanDistanceToPoor / meanDistanceToFast; higher = more conductor-like. */
  score: number;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
}

export function euclideanDistance(a: Embedding, b: Embedding): number {
  checkSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = a[i]! - b[i]!;
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/**
 * 1 − cos(a, b), in [0, 2]. A zero vector has no direction: its cosine with anything is taken
 * as 0, so the distance is 1 (neither near nor far).
 */
export function cosineDistance(a: Embedding, b: Embedding): number {
  checkSameLength(a, b);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  if (normA === 0 || normB === 0) return 1;
  const cos = dot / Math.sqrt(normA * normB);
  // Rounding can push |cos| a hair above 1; clamp so the distance stays in [0, 2].
  return 1 - Math.min(1, Math.max(-1, cos));
}

export function distance(a: Embedding, b: Embedding, metric: DistanceMetric): number {
  return metric === 'COSINE' ? cosineDistance(a, b) : euclideanDistance(a, b);
}

/** What the ratio averages: a metric, and the model's distance scale (null: the plain distance). */
export interface RatioDistance {
  metric: DistanceMetric;
  scale: number | null;
}

/** A metric alone means the plain distance. */
function ratioDistanceOf(d: DistanceMetric | RatioDistance): RatioDistance {
  return typeof d === 'string' ? { metric: d, scale: null } : d;
}

/** d, or 1 − exp(−d/scale) for a model with a distance scale (see the module comment). */
export function boundedDistance(d: number, scale: number | null): number {
  // Written as 1 − exp(·), like its SQL form (src/store/screening/fragments.ts), so both round alike.
  return scale === null ? d : 1 - Math.exp(-d / scale);
}

/**
 * The distance scale of a model: the `quantile` of the distances between all pairs of the given
 * embeddings (its labelled training rows). A quantile of all pairs, not a nearest-neighbour
 * distance: near-duplicates among the rows (a structure and its formula, polymorphs) can make
 * nearest-neighbour distances tiny, and a tiny scale saturates every distance to 1. Null when
 * fewer than two rows, or when the quantile is 0 (every pair coincides).
 */
export function distanceScaleOf(embeddings: readonly Embedding[], metric: DistanceMetric, quantile: number): number | null {
  if (!(quantile > 0 && quantile < 1)) throw new BadInputError(`a distance-scale quantile must lie in (0, 1), got ${quantile}`);
  const n = embeddings.length;
  if (n < 2) return null;
  const matrix = pairwiseDistances(embeddings, metric);
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs[p++] = matrix[i * n + j]!;
  pairs.sort();
  const scale = pairs[Math.floor(quantile * pairs.length)]!;
  return scale > 0 ? scale : null;
}

/**
 * The distance scale of a model configured with `h` (its `distanceScaleQuantile`), from the
 * embeddings of its labelled training rows; null = plain distances.
 */
export function modelDistanceScale(trainEmbeddings: readonly Embedding[], h: { distance: DistanceMetric; distanceScaleQuantile: number | null }): number | null {
  return h.distanceScaleQuantile === null ? null : distanceScaleOf(trainEmbeddings, h.distance, h.distanceScaleQuantile);
}

/** The ratio rule with its edge cases; shared by every form below so they agree exactly. */
export function ratioScore(meanDistanceToFast: number, meanDistanceToPoor: number): ScoreResult {
  let score: number;
  if (meanDistanceToFast > 0) score = meanDistanceToPoor / meanDistanceToFast;
  else score = meanDistanceToPoor > 0 ? Number.POSITIVE_INFINITY : 1;
  return { score, meanDistanceToFast, meanDistanceToPoor };
}

/** R(q) against all references of each class. */
export function scoreAgainstReferences(
  query: Embedding,
  fast: readonly Embedding[],
  poor: readonly Embedding[],
  metric: DistanceMetric | RatioDistance = 'EUCLIDEAN',
): ScoreResult {
  requireReferences(fast.length, poor.length);
  const d = ratioDistanceOf(metric);
  return ratioScore(meanOf(fast.map((h) => referenceDistance(query, h, d))), meanOf(poor.map((p) => referenceDistance(query, p, d))));
}

/** The distance the ratio averages between a query and one reference. */
export function referenceDistance(a: Embedding, b: Embedding, d: RatioDistance): number {
  return boundedDistance(distance(a, b, d.metric), d.scale);
}

/**
 * R(q) with each mean taken over only the k nearest references of that class (k is clipped to
 * the class size). A local variant: far-away members of a class stop diluting the mean.
 */
export function scoreAgainstNearest(
  query: Embedding,
  fast: readonly Embedding[],
  poor: readonly Embedding[],
  k: number,
  metric: DistanceMetric | RatioDistance = 'EUCLIDEAN',
): ScoreResult {
  requireReferences(fast.length, poor.length);
  checkK(k);
  const d = ratioDistanceOf(metric);
  return ratioScore(
    meanOfNearest(fast.map((h) => referenceDistance(query, h, d)), k),
    meanOfNearest(poor.map((p) => referenceDistance(query, p, d)), k),
  );
}

// ---------------------------------------------------------------------------------------------
// Batch form over a precomputed distance matrix (evaluation): scores many queries against
// index sets of references, optionally leaving the query itself out of the references.

/** Symmetric pairwise distance matrix, row-major Float64Array [n·n]. */
export function pairwiseDistances(vectors: readonly Embedding[], metric: DistanceMetric): Float64Array {
  const n = vectors.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = distance(vectors[i]!, vectors[j]!, metric);
      out[i * n + j] = d;
      out[j * n + i] = d;
    }
  }
  return out;
}

export interface MatrixScoreOptions {
  /** Use only the k nearest references of each class; omit for all references. */
  nearestK?: number;
  /**
   * Leave-self-out: drop the query's own index from the reference sets (a training crystal
   * scored against the other training crystals; otherwise its distance 0 to itself would
   * inflate its own class).
   */
  excludeSelf?: boolean;
  /** The model's distance scale: the matrix holds plain distances, the means average bounded ones. */
  distanceScale?: number | null;
}

/**
 * Scores every query index against the reference index sets, reading distances from `matrix`
 * ([n·n], see pairwiseDistances). Returns one ScoreResult per query, in query order.
 */
export function scoresFromDistanceMatrix(
  matrix: Float64Array,
  n: number,
  queries: readonly number[],
  fastRefs: readonly number[],
  poorRefs: readonly number[],
  options: MatrixScoreOptions = {},
): ScoreResult[] {
  if (matrix.length !== n * n) throw new BadInputError(`distance matrix has ${matrix.length} entries, expected ${n}·${n}`);
  if (options.nearestK !== undefined) checkK(options.nearestK);
  return queries.map((q) => {
    const scale = options.distanceScale ?? null;
    const toFast = collectDistances(matrix, n, q, fastRefs, options.excludeSelf ?? false).map((d) => boundedDistance(d, scale));
    const toPoor = collectDistances(matrix, n, q, poorRefs, options.excludeSelf ?? false).map((d) => boundedDistance(d, scale));
    requireReferences(toFast.length, toPoor.length);
    return options.nearestK === undefined
      ? ratioScore(meanOf(toFast), meanOf(toPoor))
      : ratioScore(meanOfNearest(toFast, options.nearestK), meanOfNearest(toPoor, options.nearestK));
  });
}

/**
 * Leave-self-out scores of every row of a labelled set against all the other rows
 * (labels: 1 = FAST, 0 = POOR).
 */
export function leaveSelfOutScores(
  embeddings: readonly Embedding[],
  labels: readonly (0 | 1)[],
  metric: DistanceMetric = 'EUCLIDEAN',
  nearestK?: number,
  distanceScale: number | null = null,
): ScoreResult[] {
  if (embeddings.length !== labels.length) throw new BadInputError('embeddings and labels differ in length');
  const n = embeddings.length;
  const matrix = pairwiseDistances(embeddings, metric);
  const all = [...Array(n).keys()];
  const fast = all.filter((i) => labels[i] === 1);
  const poor = all.filter((i) => labels[i] === 0);
  return scoresFromDistanceMatrix(matrix, n, all, fast, poor, { excludeSelf: true, nearestK, distanceScale });
}

// ---------------------------------------------------------------------------------------------
// Incremental form. The Screening issue keeps these four numbers per candidate (in Postgres) so
// that labelling or retracting one reference updates every candidate in O(1) instead of
// recomputing all distances. scoreFromSums(sums) equals scoreAgainstReferences on the same sets
// (up to float rounding of the running sums).

export interface ScoreSums {
  /** Σ d(q, h) over the fast references counted so far. */
  sumDistFast: number;
  nFast: number;
  /** Σ d(q, p) over the poor references counted so far. */
  sumDistPoor: number;
  nPoor: number;
}

export function emptyScoreSums(): ScoreSums {
  return { sumDistFast: 0, nFast: 0, sumDistPoor: 0, nPoor: 0 };
}

/** Sums after adding one reference of class `cls` at distance `dist` from the candidate. */
export function addReference(sums: ScoreSums, cls: LabelClass, dist: number): ScoreSums {
  checkDistance(dist);
  return cls === 'FAST'
    ? { ...sums, sumDistFast: sums.sumDistFast + dist, nFast: sums.nFast + 1 }
    : { ...sums, sumDistPoor: sums.sumDistPoor + dist, nPoor: sums.nPoor + 1 };
}

/** Sums after removing a reference that was added with the same class and distance. */
export function removeReference(sums: ScoreSums, cls: LabelClass, dist: number): ScoreSums {
  checkDistance(dist);
  if ((cls === 'FAST' ? sums.nFast : sums.nPoor) < 1) {
    throw new BadInputError(`cannot remove a ${cls} reference: none is counted`);
  }
  // A sum cannot truly go below 0; clamp the rounding residue left after removing the last one.
  return cls === 'FAST'
    ? { ...sums, sumDistFast: sums.nFast === 1 ? 0 : Math.max(0, sums.sumDistFast - dist), nFast: sums.nFast - 1 }
    : { ...sums, sumDistPoor: sums.nPoor === 1 ? 0 : Math.max(0, sums.sumDistPoor - dist), nPoor: sums.nPoor - 1 };
}

/** The score from running sums, or null while either class has no reference. */
export function scoreFromSums(sums: ScoreSums): ScoreResult | null {
  if (sums.nFast === 0 || sums.nPoor === 0) return null;
  return ratioScore(sums.sumDistFast / sums.nFast, sums.sumDistPoor / sums.nPoor);
}

/** Builds the sums for a candidate from scratch (the initial fill of the Screening table). */
export function scoreSumsFor(
  query: Embedding,
  fast: readonly Embedding[],
  poor: readonly Embedding[],
  metric: DistanceMetric | RatioDistance = 'EUCLIDEAN',
): ScoreSums {
  const d = ratioDistanceOf(metric);
  let sums = emptyScoreSums();
  for (const h of fast) sums = addReference(sums, 'FAST', referenceDistance(query, h, d));
  for (const p of poor) sums = addReference(sums, 'POOR', referenceDistance(query, p, d));
  return sums;
}

// ---------------------------------------------------------------------------------------------

function collectDistances(matrix: Float64Array, n: number, query: number, refs: readonly number[], excludeSelf: boolean): number[] {
  const out: number[] = [];
  for (const r of refs) if (!(excludeSelf && r === query)) out.push(matrix[query * n + r]!);
  return out;
}

function meanOf(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function meanOfNearest(values: number[], k: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return meanOf(sorted.slice(0, Math.min(k, sorted.length)));
}

function requireReferences(nFast: number, nPoor: number): void {
  if (nFast === 0 || nPoor === 0) {
    throw new BadInputError(`scoring needs at least one FAST and one POOR reference (got ${nFast} FAST, ${nPoor} POOR)`);
  }
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new BadInputError(`nearest-k must be a positive integer, got ${k}`);
}

function checkSameLength(a: Embedding, b: Embedding): void {
  if (a.length !== b.length) throw new BadInputError(`embedding lengths differ: ${a.length} vs ${b.length}`);
}

function checkDistance(dist: number): void {
  if (!Number.isFinite(dist) || dist < 0) throw new BadInputError(`a distance must be finite and ≥ 0, got ${dist}`);
}
