/**
 * Small pure lattice helpers. A lattice is a Mat3 whose rows are the vectors a, b, c in Å;
 * a Cartesian position (Å) is `frac · lattice`, i.e. r = f0·a + f1·b + f2·c.
 */
import type { Mat3, Vec3 } from './structure.js';
import type { LatticeParameters } from './types.js';

const DEG = Math.PI / 180;

function dot(u: Vec3, v: Vec3): number {
  return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
}

function norm(u: Vec3): number {
  return Math.sqrt(dot(u, u));
}

function angleDeg(u: Vec3, v: Vec3): number {
  const c = dot(u, v) / (norm(u) * norm(v));
  return Math.acos(Math.max(-1, Math.min(1, c))) / DEG;
}

/** Lengths a, b, c (Å) and angles alpha (b∠c), beta (a∠c), gamma (a∠b) in degrees. */
export function latticeParameters(lattice: Mat3): LatticeParameters {
  const [a, b, c] = lattice;
  return {
    a: norm(a),
    b: norm(b),
    c: norm(c),
    alpha: angleDeg(b, c),
    beta: angleDeg(a, c),
    gamma: angleDeg(a, b),
  };
}

/** Signed determinant a · (b × c) in Å³ (negative for a left-handed basis). */
export function latticeDeterminant(lattice: Mat3): number {
  const [a, b, c] = lattice;
  return (
    a[0] * (b[1] * c[2] - b[2] * c[1]) -
    a[1] * (b[0] * c[2] - b[2] * c[0]) +
    a[2] * (b[0] * c[1] - b[1] * c[0])
  );
}

/** Cell volume |det| in Å³. */
export function latticeVolume(lattice: Mat3): number {
  return Math.abs(latticeDeterminant(lattice));
}

/**
 * Lattice vectors from parameters with pymatgen's convention (`Lattice.from_parameters`,
 * vesta=False): c along z, a in the xz plane. Using the same convention as the reference data
 * means parsed CIF lattices equal pymatgen's row by row, not only up to a rotation.
 */
export function latticeFromParameters(p: LatticeParameters): Mat3 {
  const { a, b, c } = p;
  const alpha = p.alpha * DEG;
  const beta = p.beta * DEG;
  const gamma = p.gamma * DEG;
  const val = (Math.cos(alpha) * Math.cos(beta) - Math.cos(gamma)) / (Math.sin(alpha) * Math.sin(beta));
  const gammaStar = Math.acos(Math.max(-1, Math.min(1, val)));
  return [
    [a * Math.sin(beta), 0, a * Math.cos(beta)],
    [-b * Math.sin(alpha) * Math.cos(gammaStar), b * Math.sin(alpha) * Math.sin(gammaStar), b * Math.cos(alpha)],
    [0, 0, c],
  ];
}

/** Inverse of a 3×3 matrix; throws a plain Error when singular (callers validate first). */
export function invertMat3(m: Mat3): Mat3 {
  const det = latticeDeterminant(m);
  if (!Number.isFinite(det) || det === 0) throw new Error('singular matrix');
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const s = 1 / det;
  return [
    [(e * i - f * h) * s, (c * h - b * i) * s, (b * f - c * e) * s],
    [(f * g - d * i) * s, (a * i - c * g) * s, (c * d - a * f) * s],
    [(d * h - e * g) * s, (b * g - a * h) * s, (a * e - b * d) * s],
  ];
}

/** Cartesian position (Å) of fractional coordinates: frac · lattice. */
export function fracToCart(frac: Vec3, lattice: Mat3): Vec3 {
  const [a, b, c] = lattice;
  return [
    frac[0] * a[0] + frac[1] * b[0] + frac[2] * c[0],
    frac[0] * a[1] + frac[1] * b[1] + frac[2] * c[1],
    frac[0] * a[2] + frac[1] * b[2] + frac[2] * c[2],
  ];
}

/** Fractional coordinates of a Cartesian position (Å), given the inverse lattice. */
export function cartToFrac(cart: Vec3, inverseLattice: Mat3): Vec3 {
  return fracToCart(cart, inverseLattice);
}

/** x wrapped into [0, 1); guards against x - floor(x) rounding up to exactly 1. */
export function wrapFrac(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 || Object.is(w, -0) ? 0 : w;
}

export function wrapVec3(v: Vec3): Vec3 {
  return [wrapFrac(v[0]), wrapFrac(v[1]), wrapFrac(v[2])];
}

/**
 * True when two fractional positions coincide modulo lattice translations, every component
 * within `tolerance` (the per-component test of pymatgen's `in_coord_list_pbc`).
 */
export function sameFracPositionPbc(u: Vec3, v: Vec3, tolerance: number): boolean {
  for (let k = 0; k < 3; k++) {
    const d = u[k]! - v[k]!;
    if (Math.abs(d - Math.round(d)) > tolerance) return false;
  }
  return true;
}
