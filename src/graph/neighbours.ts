/**
 * Exact periodic k-nearest-atom neighbour lists (knagcn.md §1.2–1.3).
 *
 * Candidates of atom i are all images (j, n) — site j (i itself included) shifted by lattice
 * translation n ∈ ℤ³ — except (i, 0). Every atom gets exactly k neighbours (no padding), even in a
 * one-atom cell, and the same site may appear several times through different images.
 *
 * Exactness: all images within radius R of any point of the cell are enumerated (see
 * `enumerateImages`); if the k-th kept distance is ≤ R − TIE_QUANTUM_ANGSTROM for every atom, no
 * image outside could be closer or tie with it, otherwise R grows ×1.5 and the search reruns.
 * All geometry is Float64.
 */
import { BadInputError } from '../errors.js';
import type { Structure } from '../structure/structure.js';

/** Distances are compared after rounding to this step (Å): absorbs CIF rounding noise in ties. */
export const TIE_QUANTUM_ANGSTROM = 1e-3;
/** Upper bound on the search radius; beyond it the structure is considered degenerate. */
export const MAX_SEARCH_RADIUS_ANGSTROM = 1000;
/**
 * Upper bound on (lattice translations scanned × sites) in one search. A 2,000-site cell needs
 * ~2.5e5 and a one-atom 3 Å cube ~700; a very skewed cell ([1, 0, 0], [1e6, 1, 0], …) or a lattice
 * vector far shorter than the atom spacing needs billions, which exhausted the heap and aborted the
 * whole process (a fatal V8 error, not an exception) before this bound.
 */
export const MAX_IMAGE_SCAN = 2e7;

export interface NeighbourList {
  numAtoms: number;
  k: number;
  /** [N·k] site index j of the k-th nearest image of atom i, slot-major per atom. */
  index: Int32Array;
  /** [N·k·3] lattice translation n of that image. */
  image: Int32Array;
  /** [N·k·3] Cartesian vector r = x_j + n·L − x_i in Å (Float64 until the graph converts it). */
  vector: Float64Array;
  /** [N·k] |r| in Å. */
  distance: Float64Array;
}

/** Reciprocal rows b_a (without 2π) of a lattice whose rows are a_a: a_a · b_b = δ_ab. */
export function reciprocalRows(L: readonly (readonly number[])[]): number[][] {
  const [a, b, c] = L as number[][];
  const cross = (u: number[], v: number[]) => [
    u[1]! * v[2]! - u[2]! * v[1]!,
    u[2]! * v[0]! - u[0]! * v[2]!,
    u[0]! * v[1]! - u[1]! * v[0]!,
  ];
  const bc = cross(b!, c!);
  const det = a![0]! * bc[0]! + a![1]! * bc[1]! + a![2]! * bc[2]!;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-8) throw new BadInputError('lattice is singular (cell volume ≈ 0)');
  const ca = cross(c!, a!);
  const ab = cross(a!, b!);
  return [bc.map((x) => x / det), ca.map((x) => x / det), ab.map((x) => x / det)];
}

export interface ImageCloud {
  count: number;
  /** [count·3] Cartesian positions. */
  position: Float64Array;
  site: Int32Array;
  /** [count·3] lattice translations. */
  shift: Int32Array;
}

/**
 * Every image x_j + n·L whose fractional coordinate u_a lies in [−R|b_a|, 1 + R|b_a|] on each axis.
 * Lattice planes u_a = const are 1/|b_a| apart, so a point within R of some point of the cell
 * (u ∈ [0,1)³) satisfies this on every axis: the cloud holds every candidate within R of any atom.
 */
export function enumerateImages(frac: Float64Array, L: number[][], recip: number[][], radius: number): ImageCloud {
  const n = frac.length / 3;
  const margin = recip.map((b) => radius * Math.hypot(b[0]!, b[1]!, b[2]!));
  const lo = margin.map((m) => -Math.ceil(m) - 1);
  const hi = margin.map((m) => Math.ceil(m) + 1);
  const scan = (hi[0]! - lo[0]! + 1) * (hi[1]! - lo[1]! + 1) * (hi[2]! - lo[2]! + 1) * n;
  if (!(scan <= MAX_IMAGE_SCAN)) {
    throw new BadInputError(
      `degenerate cell: finding neighbours within ${radius.toPrecision(3)} Å would scan ${scan.toPrecision(3)} atom images ` +
        `(more than ${MAX_IMAGE_SCAN}); the cell is too skewed or a lattice vector is far shorter than the atom spacing`,
    );
  }
  const position: number[] = [];
  const site: number[] = [];
  const shift: number[] = [];
  for (let n0 = lo[0]!; n0 <= hi[0]!; n0++) {
    for (let n1 = lo[1]!; n1 <= hi[1]!; n1++) {
      for (let n2 = lo[2]!; n2 <= hi[2]!; n2++) {
        for (let j = 0; j < n; j++) {
          const u0 = frac[3 * j]! + n0;
          const u1 = frac[3 * j + 1]! + n1;
          const u2 = frac[3 * j + 2]! + n2;
          if (u0 < -margin[0]! || u0 > 1 + margin[0]!) continue;
          if (u1 < -margin[1]! || u1 > 1 + margin[1]!) continue;
          if (u2 < -margin[2]! || u2 > 1 + margin[2]!) continue;
          position.push(
            u0 * L[0]![0]! + u1 * L[1]![0]! + u2 * L[2]![0]!,
            u0 * L[0]![1]! + u1 * L[1]![1]! + u2 * L[2]![1]!,
            u0 * L[0]![2]! + u1 * L[1]![2]! + u2 * L[2]![2]!,
          );
          site.push(j);
          shift.push(n0, n1, n2);
        }
      }
    }
  }
  return { count: site.length, position: Float64Array.from(position), site: Int32Array.from(site), shift: Int32Array.from(shift) };
}

/** knagcn.md §1.2 step 3: 1.5 × the radius of a sphere holding k atoms at the cell's density, + 1 Å. */
export function initialSearchRadius(L: number[][], numAtoms: number, k: number): number {
  const [a, b, c] = L as [number[], number[], number[]];
  const volume = Math.abs(
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!),
  );
  return 1.5 * Math.cbrt((3 * k * volume) / (4 * Math.PI * numAtoms)) + 1;
}

/** Cartesian positions [N·3] of fractional coordinates (rows of L are the lattice vectors). */
export function cartesianPositions(frac: Float64Array, L: number[][]): Float64Array {
  const n = frac.length / 3;
  const cart = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) cart[3 * i + c] = frac[3 * i]! * L[0]![c]! + frac[3 * i + 1]! * L[1]![c]! + frac[3 * i + 2]! * L[2]![c]!;
  }
  return cart;
}

/**
 * Sort key 2 of §1.3 for a site: occupancy-weighted atomic number (heavier first). Any fixed
 * function of the species works; it only has to be frame-independent.
 */
export type SiteTieKey = (site: number) => number;

/**
 * k nearest images of every site. `frac` must already be wrapped into [0, 1); `siteKey` ranks
 * sites for ties (larger first).
 */
export function kNearestNeighbours(
  lattice: readonly (readonly number[])[],
  frac: Float64Array,
  k: number,
  siteKey: SiteTieKey,
): NeighbourList {
  const numAtoms = frac.length / 3;
  if (!Number.isInteger(k) || k < 1) throw new BadInputError(`k must be a positive integer, got ${k}`);
  if (numAtoms < 1) throw new BadInputError('structure has no sites');
  const L = lattice.map((row) => [...row]);
  const recip = reciprocalRows(L);
  // §1.2 step 3: a sphere holding ~3.4·k atoms at the average density, plus 1 Å.
  let radius = initialSearchRadius(L, numAtoms, k);
  const cart = cartesianPositions(frac, L);

  for (;;) {
    const result = trySearch(cart, frac, L, recip, radius, k, siteKey);
    if (result) return result;
    radius *= 1.5;
    if (radius > MAX_SEARCH_RADIUS_ANGSTROM) {
      throw new BadInputError(`no ${k} neighbours within ${MAX_SEARCH_RADIUS_ANGSTROM} Å: degenerate structure`);
    }
  }
}

function trySearch(
  cart: Float64Array,
  frac: Float64Array,
  L: number[][],
  recip: number[][],
  radius: number,
  k: number,
  siteKey: SiteTieKey,
): NeighbourList | undefined {
  const numAtoms = cart.length / 3;
  const cloud = enumerateImages(frac, L, recip, radius);
  const r2max = radius * radius;
  const index = new Int32Array(numAtoms * k);
  const image = new Int32Array(numAtoms * k * 3);
  const vector = new Float64Array(numAtoms * k * 3);
  const distance = new Float64Array(numAtoms * k);
  // Scratch buffers reused across atoms.
  let cand = new Int32Array(256);
  let candD = new Float64Array(256);
  const keyCache = new Float64Array(numAtoms);
  for (let j = 0; j < numAtoms; j++) keyCache[j] = siteKey(j);

  for (let i = 0; i < numAtoms; i++) {
    const xi = cart[3 * i]!, yi = cart[3 * i + 1]!, zi = cart[3 * i + 2]!;
    let count = 0;
    for (let c = 0; c < cloud.count; c++) {
      const dx = cloud.position[3 * c]! - xi;
      const dy = cloud.position[3 * c + 1]! - yi;
      const dz = cloud.position[3 * c + 2]! - zi;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > r2max) continue;
      if (cloud.site[c] === i && cloud.shift[3 * c] === 0 && cloud.shift[3 * c + 1] === 0 && cloud.shift[3 * c + 2] === 0) continue;
      if (count === cand.length) {
        const grown = new Int32Array(count * 2); grown.set(cand); cand = grown;
        const grownD = new Float64Array(count * 2); grownD.set(candD); candD = grownD;
      }
      cand[count] = c;
      candD[count] = Math.sqrt(d2);
      count++;
    }
    if (count < k) return undefined;
    const order = orderCandidates(cand, candD, count, k, cloud, keyCache);
    const dK = candD[order[k - 1]!]!;
    if (dK > radius - TIE_QUANTUM_ANGSTROM) return undefined;
    for (let s = 0; s < k; s++) {
      const t = order[s]!;
      const c = cand[t]!;
      const o = i * k + s;
      index[o] = cloud.site[c]!;
      for (let a = 0; a < 3; a++) {
        image[3 * o + a] = cloud.shift[3 * c + a]!;
        vector[3 * o + a] = cloud.position[3 * c + a]! - cart[3 * i + a]!;
      }
      distance[o] = candD[t]!;
    }
  }
  return { numAtoms, k, index, image, vector, distance };
}

/**
 * Positions (into `cand`) of the k first candidates under the §1.3 key:
 * quantised distance ↑, site key ↓, sum of distances to the other candidates of the same
 * quantised shell ↑ (quantised), site index ↑, translation lexicographic ↑.
 * The third key is computed only for shells that straddle or lie within the first k.
 */
function orderCandidates(
  cand: Int32Array,
  candD: Float64Array,
  count: number,
  k: number,
  cloud: ImageCloud,
  siteKeys: Float64Array,
): number[] {
  const q = new Float64Array(count);
  for (let t = 0; t < count; t++) q[t] = Math.round(candD[t]! / TIE_QUANTUM_ANGSTROM);
  // Only the shells up to and including the one holding the k-th candidate matter: find that
  // shell with a numeric typed-array sort, then order just those candidates by (shell, position)
  // — what a stable sort of every candidate by shell would have put first, at a fraction of the cost.
  const qK = q.slice().sort()[k - 1]!;
  const head: number[] = [];
  for (let t = 0; t < count; t++) if (q[t]! <= qK) head.push(t);
  head.sort((a, b) => q[a]! - q[b]! || a - b);
  const shellSum = new Float64Array(count);
  for (let s = 0; s < head.length; ) {
    let e = s + 1;
    while (e < head.length && q[head[e]!] === q[head[s]!]) e++;
    if (e - s > 1) {
      for (let u = s; u < e; u++) {
        const cu = cand[head[u]!]!;
        let sum = 0;
        for (let v = s; v < e; v++) {
          if (u === v) continue;
          const cv = cand[head[v]!]!;
          sum += Math.hypot(
            cloud.position[3 * cu]! - cloud.position[3 * cv]!,
            cloud.position[3 * cu + 1]! - cloud.position[3 * cv + 1]!,
            cloud.position[3 * cu + 2]! - cloud.position[3 * cv + 2]!,
          );
        }
        shellSum[head[u]!] = Math.round(sum / TIE_QUANTUM_ANGSTROM);
      }
    }
    s = e;
  }
  head.sort((a, b) => {
    if (q[a] !== q[b]) return q[a]! - q[b]!;
    const ca = cand[a]!, cb = cand[b]!;
    const ka = siteKeys[cloud.site[ca]!]!, kb = siteKeys[cloud.site[cb]!]!;
    if (ka !== kb) return kb - ka;
    if (shellSum[a] !== shellSum[b]) return shellSum[a]! - shellSum[b]!;
    if (cloud.site[ca] !== cloud.site[cb]) return cloud.site[ca]! - cloud.site[cb]!;
    for (let x = 0; x < 3; x++) {
      const d = cloud.shift[3 * ca + x]! - cloud.shift[3 * cb + x]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  return head;
}

/** Wrapped fractional coordinates [N·3] in [0, 1) (Float64). */
export function wrappedFractional(structure: Structure): Float64Array {
  const out = new Float64Array(structure.sites.length * 3);
  structure.sites.forEach((site, i) => {
    for (let a = 0; a < 3; a++) {
      const x = site.frac[a]!;
      if (!Number.isFinite(x)) throw new BadInputError(`site ${i} has a non-finite fractional coordinate`);
      let w = x - Math.floor(x);
      if (w >= 1) w = 0; // x = −1e-17 gives 1 − 1e-17 → rounds to 1 in float64
      out[3 * i + a] = w;
    }
  });
  return out;
}
