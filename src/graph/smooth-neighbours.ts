/**
 * Smooth k-nearest neighbourhoods: the k-NAGCN idea ("each atom sees its k nearest atoms") made
 * continuous in the positions and free of any neighbour order, so that 0.01 Å of noise, another
 * site order, a supercell or another cell setting leave the graph the same function of the crystal.
 *
 * Atom i keeps every image (j, n) closer than r_i = d_k(i) + margin, where d_k(i) is its k-th
 * nearest distance, with weight
 *   w(d) = 1                                   for d ≤ d_k(i)
 *        = ½·(1 + cos(π·(d − d_k(i)) / margin)) for d_k(i) < d < d_k(i) + margin   (C¹ fall-off)
 *        = 0                                   beyond.
 * d_k(i) is an order statistic of continuous distances, hence continuous; so is every weight. A
 * neighbour crossing the k-th place or a shell of tied distances changes nothing abruptly, unlike a
 * hard cut at exactly k slots. Weights are normalised per atom (Σ_j ŵ_ij = 1): the layer takes a
 * weighted mean, so a crystal and its supercell give every atom the same message.
 */
import { BadInputError } from '../errors.js';
import { cartesianPositions, enumerateImages, initialSearchRadius, MAX_SEARCH_RADIUS_ANGSTROM, reciprocalRows } from './neighbours.js';

export interface SmoothNeighbourhoods {
  numAtoms: number;
  /** [E] centre atom of each edge, ascending (edges grouped by centre). */
  center: Int32Array;
  /** [E] neighbour site j. */
  neighbour: Int32Array;
  /** [E] distance |x_j + n·L − x_i| in Å. */
  distance: Float64Array;
  /** [E] w(d)/Σ w over the centre's edges. */
  weight: Float64Array;
  /** [N] the k-th nearest distance d_k(i). */
  kthDistance: Float64Array;
}

/** w(d) of the module comment, before normalisation. */
export function smoothWeight(d: number, dK: number, margin: number): number {
  if (d <= dK) return 1;
  if (d >= dK + margin) return 0;
  return 0.5 * (1 + Math.cos((Math.PI * (d - dK)) / margin));
}

/** Smooth neighbourhoods of every site; `frac` must be wrapped into [0, 1). */
export function smoothNeighbourhoods(lattice: readonly (readonly number[])[], frac: Float64Array, k: number, marginAngstrom: number): SmoothNeighbourhoods {
  const numAtoms = frac.length / 3;
  if (!Number.isInteger(k) || k < 1) throw new BadInputError(`k must be a positive integer, got ${k}`);
  if (!(marginAngstrom > 0)) throw new BadInputError(`the neighbourhood margin must be positive, got ${marginAngstrom}`);
  if (numAtoms < 1) throw new BadInputError('structure has no sites');
  const L = lattice.map((row) => [...row]);
  const recip = reciprocalRows(L);
  const cart = cartesianPositions(frac, L);
  let radius = initialSearchRadius(L, numAtoms, k) + marginAngstrom;
  for (;;) {
    const result = trySearch(cart, frac, L, recip, radius, k, marginAngstrom);
    if (result) return result;
    radius *= 1.5;
    if (radius > MAX_SEARCH_RADIUS_ANGSTROM) throw new BadInputError(`no ${k} neighbours within ${MAX_SEARCH_RADIUS_ANGSTROM} Å: degenerate structure`);
  }
}

function trySearch(
  cart: Float64Array,
  frac: Float64Array,
  L: number[][],
  recip: number[][],
  radius: number,
  k: number,
  margin: number,
): SmoothNeighbourhoods | undefined {
  const numAtoms = cart.length / 3;
  const cloud = enumerateImages(frac, L, recip, radius);
  const r2max = radius * radius;
  const center: number[] = [];
  const neighbour: number[] = [];
  const distance: number[] = [];
  const weight: number[] = [];
  const kthDistance = new Float64Array(numAtoms);
  let candSite = new Int32Array(256);
  let candD = new Float64Array(256);
  for (let i = 0; i < numAtoms; i++) {
    const xi = cart[3 * i]!, yi = cart[3 * i + 1]!, zi = cart[3 * i + 2]!;
    let count = 0;
    for (let q = 0; q < cloud.count; q++) {
      const dx = cloud.position[3 * q]! - xi;
      const dy = cloud.position[3 * q + 1]! - yi;
      const dz = cloud.position[3 * q + 2]! - zi;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > r2max || d2 === 0) continue; // d = 0 only for the atom itself (or a coincident site: refused upstream)
      if (count === candD.length) {
        const s = new Int32Array(count * 2); s.set(candSite); candSite = s;
        const d = new Float64Array(count * 2); d.set(candD); candD = d;
      }
      candSite[count] = cloud.site[q]!;
      candD[count] = Math.sqrt(d2);
      count++;
    }
    if (count < k) return undefined;
    const sorted = candD.slice(0, count).sort();
    const dK = sorted[k - 1]!;
    // Every image closer than dK + margin must have been enumerated.
    if (dK + margin > radius) return undefined;
    kthDistance[i] = dK;
    const first = weight.length;
    let total = 0;
    for (let t = 0; t < count; t++) {
      const w = smoothWeight(candD[t]!, dK, margin);
      if (w <= 0) continue;
      center.push(i);
      neighbour.push(candSite[t]!);
      distance.push(candD[t]!);
      weight.push(w);
      total += w;
    }
    for (let e = first; e < weight.length; e++) weight[e] = weight[e]! / total;
  }
  return {
    numAtoms,
    center: Int32Array.from(center),
    neighbour: Int32Array.from(neighbour),
    distance: Float64Array.from(distance),
    weight: Float64Array.from(weight),
    kthDistance,
  };
}
