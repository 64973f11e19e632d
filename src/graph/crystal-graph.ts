/**
 * Structure → crystal graph for k-NAGCN (knagcn.md §1, §7.1): occupancy-weighted node features,
 * exact periodic k-nearest-atom lists and per-slot invariant geometry (distances and the cosine
 * matrix of the ordered neighbour vectors, i.e. the ordered Gram matrix). All searching is Float64;
 * the stored arrays are Float32/Int32 and ready to batch.
 *
 * The Gaussian expansion of the distances is not stored here: it is a model hyperparameter and
 * is applied when a batch is assembled (src/model/batch.ts).
 */
import { createHash } from 'node:crypto';
import { BadInputError } from '../errors.js';
import type { Structure } from '../structure/structure.js';
import { elementBySymbol } from '../structure/elements.js';
import { ATOM_FEATURE_LENGTH, writeSiteFeatures } from '../features/atom-features.js';
import { elementTableHash } from '../features/element-table.js';
import { compositionFeatures, ELEMENT_TABLE_PROPERTIES } from '../features/composition-features.js';
import { cellAmounts } from '../structure/facts.js';
import { kNearestNeighbours, wrappedFractional } from './neighbours.js';

/** Bump when the graph content for the same input changes (tie rule, features, geometry). */
export const CRYSTAL_GRAPH_VERSION = 'knagcn-graph-v1';

/** Neighbour counts the model supports (the paper's k ∈ {4, 8, 12}); other k work for the graph. */
export type NeighbourCount = number;

export interface CrystalGraphOptions {
  /** Neighbours per atom. */
  k: NeighbourCount;
}

export interface CrystalGraph {
  readonly numAtoms: number;
  readonly k: number;
  /** [N · 92] occupancy-weighted one-hot element features (vacancy share = zeros). */
  readonly atomFeatures: Float32Array;
  /** [N · k] site index of each slot's neighbour (slot order = §1.3 sort order). */
  readonly neighbourIndex: Int32Array;
  /** [N · k] neighbour distance in Å. */
  readonly neighbourDistance: Float32Array;
  /** [N · k · k] cosine of the angle between slot vectors r_k and r_l at the centre atom. */
  readonly neighbourCosine: Float32Array;
  /**
   * Magpie-like descriptors of the cell's composition (src/features/composition-features.ts, 81
   * values), read by models with `compositionDescriptors` (the same ones the composition baselines use).
   */
  readonly compositionDescriptors: Float32Array;
}

/** Tie key of a site: occupancy-weighted atomic number (§1.3 key 2: heavier first). */
function siteWeightedZ(structure: Structure): Float64Array {
  return Float64Array.from(structure.sites, (site) =>
    site.species.reduce((acc, sp) => acc + sp.occupancy * elementBySymbol(sp.element).Z, 0),
  );
}

export function buildCrystalGraph(structure: Structure, options: CrystalGraphOptions): CrystalGraph {
  const { k } = options;
  const n = structure.sites.length;
  if (n === 0) throw new BadInputError('structure has no sites');
  const atomFeatures = new Float32Array(n * ATOM_FEATURE_LENGTH);
  structure.sites.forEach((site, i) => {
    if (site.species.length === 0) throw new BadInputError(`site ${i} has no species`);
    writeSiteFeatures(site.species, atomFeatures, i * ATOM_FEATURE_LENGTH);
  });
  const weightedZ = siteWeightedZ(structure);
  const list = kNearestNeighbours(structure.lattice, wrappedFractional(structure), k, (j) => weightedZ[j]!);

  const neighbourDistance = Float32Array.from(list.distance);
  const neighbourCosine = new Float32Array(n * k * k);
  const v = list.vector;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const oa = 3 * (i * k + a);
      const da = list.distance[i * k + a]!;
      for (let b = a; b < k; b++) {
        const ob = 3 * (i * k + b);
        const db = list.distance[i * k + b]!;
        let c = (v[oa]! * v[ob]! + v[oa + 1]! * v[ob + 1]! + v[oa + 2]! * v[ob + 2]!) / (da * db);
        c = Math.max(-1, Math.min(1, c));
        neighbourCosine[(i * k + a) * k + b] = c;
        neighbourCosine[(i * k + b) * k + a] = c;
      }
    }
  }
  const compositionDescriptors = Float32Array.from(compositionFeatures(cellAmounts(structure), ELEMENT_TABLE_PROPERTIES));
  return { numAtoms: n, k, atomFeatures, neighbourIndex: list.index, neighbourDistance, neighbourCosine, compositionDescriptors };
}

/**
 * Cache key of `buildCrystalGraph(structure, {k})`: sha256 over the graph version, element-table
 * hash, k and the structure exactly as given (site order matters: it is the last tie key).
 */
export function crystalGraphCacheKey(structure: Structure, options: CrystalGraphOptions): string {
  const body = JSON.stringify({ lattice: structure.lattice, sites: structure.sites.map((s) => [s.species, s.frac]) });
  return createHash('sha256')
    .update(`${CRYSTAL_GRAPH_VERSION}|${elementTableHash()}|k=${options.k}|${body}`)
    .digest('hex');
}
