/**
 * Principal component analysis of embedding vectors, for the 2-D map of the embedding space.
 * The d × d covariance (d = embedding size, 16–256) is formed once and its two leading eigenvectors
 * found by power iteration with deflation: O(n·d² + iterations·d²), fine for thousands of points.
 */

export interface PcaResult {
  /** [n][2] coordinates on the first two principal components. */
  points: [number, number][];
  /** Fraction of the total variance carried by PC1 and PC2. */
  explained: [number, number];
}

const ITERATIONS = 200;
const TOLERANCE = 1e-10;

export function pca2(vectors: readonly (readonly number[])[]): PcaResult {
  const n = vectors.length;
  if (n === 0) return { points: [], explained: [0, 0] };
  const d = vectors[0]!.length;
  const mean = new Float64Array(d);
  for (const v of vectors) for (let j = 0; j < d; j++) mean[j]! += v[j]! / n;
  // covariance [d, d]
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const v of vectors) {
    for (let j = 0; j < d; j++) centred[j] = v[j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = centred[a]!;
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ca * centred[b]!;
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const value = cov[a * d + b]! / Math.max(1, n - 1);
      cov[a * d + b] = value;
      cov[b * d + a] = value;
    }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a]!;

  const components: Float64Array[] = [];
  const eigenvalues: number[] = [];
  for (let c = 0; c < Math.min(2, d); c++) {
    // Deterministic start vector, so the same data gives the same map on every load.
    let vec: Float64Array = new Float64Array(d).map((_, j) => 1 + ((j * 7919) % 13) / 13);
    normalise(vec);
    let lambda = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const next = multiply(cov, vec, d);
      for (const previous of components) subtractProjection(next, previous);
      lambda = norm(next);
      if (lambda < TOLERANCE) break;
      for (let j = 0; j < d; j++) next[j]! /= lambda;
      let change = 0;
      for (let j = 0; j < d; j++) change += Math.abs(next[j]! - vec[j]!);
      vec = next;
      if (change < 1e-9) break;
    }
    // Sign convention: the largest loading is positive (a stable orientation of the map).
    let largest = 0;
    for (let j = 0; j < d; j++) if (Math.abs(vec[j]!) > Math.abs(vec[largest]!)) largest = j;
    if (vec[largest]! < 0) for (let j = 0; j < d; j++) vec[j] = -vec[j]!;
    components.push(vec);
    eigenvalues.push(lambda);
  }
  const points = vectors.map((v) => {
    const coords: [number, number] = [0, 0];
    components.forEach((component, c) => {
      let sum = 0;
      for (let j = 0; j < d; j++) sum += (v[j]! - mean[j]!) * component[j]!;
      coords[c as 0 | 1] = sum;
    });
    return coords;
  });
  const explained: [number, number] = [trace > 0 ? (eigenvalues[0] ?? 0) / trace : 0, trace > 0 ? (eigenvalues[1] ?? 0) / trace : 0];
  return { points, explained };
}

function multiply(matrix: Float64Array, vec: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    let sum = 0;
    for (let b = 0; b < d; b++) sum += matrix[a * d + b]! * vec[b]!;
    out[a] = sum;
  }
  return out;
}

function subtractProjection(vec: Float64Array, unit: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < vec.length; j++) dot += vec[j]! * unit[j]!;
  for (let j = 0; j < vec.length; j++) vec[j]! -= dot * unit[j]!;
}

function norm(vec: Float64Array): number {
  let sum = 0;
  for (const x of vec) sum += x * x;
  return Math.sqrt(sum);
}

function normalise(vec: Float64Array): void {
  const length = norm(vec);
  for (let j = 0; j < vec.length; j++) vec[j]! /= length;
}
