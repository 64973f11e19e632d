/**
 * k-nearest-neighbour classifier on standardised features: P(FAST | x) = fraction of FAST among
 * the k training rows nearest to x (Euclidean after z-scoring with training means and standard
 * deviations, so no single property's unit dominates).
 */
import { BadInputError } from '../errors.js';
import type { BinaryLabel } from '../domain.js';

export interface KnnOptions {
  /** Neighbours. Default 5. */
  k?: number;
}

export interface KnnClassifier {
  /** P(FAST | x) in [0, 1]. */
  predictProbability(x: ArrayLike<number>): number;
  /**
   * Leave-self-out probability of each training row (its own entry excluded), the counterpart
   * of the forest's out-of-bag probabilities for threshold calibration.
   */
  readonly leaveSelfOutProbabilities: Float64Array;
}

export function trainKnn(rows: readonly ArrayLike<number>[], labels: readonly BinaryLabel[], options: KnnOptions = {}): KnnClassifier {
  const n = rows.length;
  if (n < 2 || n !== labels.length) throw new BadInputError(`kNN needs ≥ 2 rows and one label per row (got ${n}, ${labels.length})`);
  const k = Math.min(options.k ?? 5, n - 1);
  if (!Number.isInteger(k) || k < 1) throw new BadInputError(`kNN k must be a positive integer, got ${options.k}`);
  const standardise = fitStandardiser(rows);
  const train = rows.map(standardise);

  const probabilityNear = (z: Float64Array, skip: number): number => {
    const distances: { d: number; label: BinaryLabel }[] = [];
    for (let i = 0; i < n; i++) if (i !== skip) distances.push({ d: squaredDistance(z, train[i]!), label: labels[i]! });
    distances.sort((a, b) => a.d - b.d);
    let positives = 0;
    for (let i = 0; i < k; i++) positives += distances[i]!.label;
    return positives / k;
  };

  return {
    leaveSelfOutProbabilities: Float64Array.from(train, (z, i) => probabilityNear(z, i)),
    predictProbability(x) {
      if (x.length !== train[0]!.length) throw new BadInputError(`expected ${train[0]!.length} features, got ${x.length}`);
      return probabilityNear(standardise(x), -1);
    },
  };
}

/** z-scoring with training statistics; a constant feature maps to 0. */
export function fitStandardiser(rows: readonly ArrayLike<number>[]): (x: ArrayLike<number>) => Float64Array {
  const p = rows[0]!.length;
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  for (const r of rows) for (let f = 0; f < p; f++) mean[f] += r[f]! / rows.length;
  for (const r of rows) for (let f = 0; f < p; f++) sd[f] += (r[f]! - mean[f]!) ** 2 / rows.length;
  for (let f = 0; f < p; f++) sd[f] = Math.sqrt(sd[f]!);
  return (x) => Float64Array.from({ length: p }, (_, f) => (sd[f]! > 0 ? (x[f]! - mean[f]!) / sd[f]! : 0));
}

function squaredDistance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}
