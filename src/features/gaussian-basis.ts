/**
 * Gaussian expansion of a distance (CGCNN's `GaussianDistance`; unit: Å):
 *   g_m(d) = exp(−(d − μ_m)² / σ²),  μ_m = dMin, dMin + step, …, dMax,  σ = width.
 * CGCNN's default (knagcn.md §1.4) is dMin 0, dMax 8, step 0.2, width 0.2 → 41 centres.
 * Distances are clamped at `clampAngstrom` so far neighbours stay in the tail but finite.
 */
export interface GaussianBasis {
  dMinAngstrom: number;
  dMaxAngstrom: number;
  stepAngstrom: number;
  widthAngstrom: number;
  clampAngstrom: number;
}

export const CGCNN_GAUSSIAN_BASIS: GaussianBasis = Object.freeze({
  dMinAngstrom: 0,
  dMaxAngstrom: 8,
  stepAngstrom: 0.2,
  widthAngstrom: 0.2,
  clampAngstrom: 8.5,
});

export function gaussianCentres(basis: GaussianBasis): Float64Array {
  const count = Math.round((basis.dMaxAngstrom - basis.dMinAngstrom) / basis.stepAngstrom) + 1;
  return Float64Array.from({ length: count }, (_, m) => basis.dMinAngstrom + m * basis.stepAngstrom);
}

/**
 * Centres farther than this many widths from d get exactly 0 instead of exp(−(x/σ)²) < e⁻⁶⁴ ≈ 1.6e-28
 * (below anything float32 arithmetic on O(1) weights can see); skips ~2/3 of the exp calls.
 */
const NEGLIGIBLE_WIDTHS = 8;

/** Writes the expansion of `distanceAngstrom` into out[offset .. offset + centres.length). */
export function writeGaussianExpansion(
  distanceAngstrom: number,
  centres: Float64Array,
  widthAngstrom: number,
  clampAngstrom: number,
  out: Float32Array,
  offset: number,
): void {
  const d = Math.min(distanceAngstrom, clampAngstrom);
  const inv = 1 / (widthAngstrom * widthAngstrom);
  const reach = NEGLIGIBLE_WIDTHS * widthAngstrom;
  for (let m = 0; m < centres.length; m++) {
    const x = d - centres[m]!;
    out[offset + m] = x > reach || x < -reach ? 0 : Math.exp(-x * x * inv);
  }
}
