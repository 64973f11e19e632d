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
import type { Amounts } from '../structure/composition.js';
import { kNearestNeighbours, wrappedFractional } from './neighbours.js';
import { smoothNeighbourhoods } from './smooth-neighbours.js';

/** Bump when the graph content for the same input changes (tie rule, features, geometry). */
export const CRYSTAL_GRAPH_VERSION = 'knagcn-graph-v2';

/** Neighbour counts the model supports (the paper's k ∈ {4, 8, 12}); other k work for the graph. */
export type NeighbourCount = number;

export interface CrystalGraphOptions {
  /** Neighbours per atom. */
  k: NeighbourCount;
  /**
   * 'slots' (default; preset PAPER): exactly k neighbours in sorted-distance slots with the ordered
   * cosine matrix (knagcn.md §1.3–1.4) — discontinuous where distances tie or cross the k-th place.
   * 'smooth': every image closer than the k-th distance + `marginAngstrom`, with smooth weights
   * (smooth-neighbours.ts) — invariant to site order and cell choice, continuous in the positions.
   */
  neighbourhood?: 'slots' | 'smooth';
  /** Fall-off width beyond the k-th distance of the 'smooth' neighbourhood (Å). */
  marginAngstrom?: number;
}

/** Edges of a 'smooth' graph (smooth-neighbours.ts), grouped by centre atom. */
export interface SmoothEdges {
  center: Int32Array;
  neighbour: Int32Array;
  distance: Float32Array;
  /** Normalised weights: they sum to 1 over each centre's edges. */
  weight: Float32Array;
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
  /** Present on 'smooth' graphs (then the slot arrays above are empty). */
  readonly edges?: SmoothEdges;
}

/**
 * A material known only by its composition: no atoms, only the composition descriptors. Models
 * with a composition pathway embed it from those alone (one embedding space for every material).
 */
export function compositionOnlyGraph(amounts: Amounts, k: number): CrystalGraph {
  return descriptorsOnlyGraph(Float32Array.from(compositionFeatures(amounts, ELEMENT_TABLE_PROPERTIES)), k);
}

/**
 * The formula view of a graph: its composition descriptors alone (what compositionOnlyGraph gives
 * for the same composition), so a structure can also be embedded by its composition pathway.
 */
export function formulaViewOf(graph: CrystalGraph): CrystalGraph {
  return graph.numAtoms === 0 ? graph : descriptorsOnlyGraph(graph.compositionDescriptors, graph.k);
}

function descriptorsOnlyGraph(compositionDescriptors: Float32Array, k: number): CrystalGraph {
  return {
    numAtoms: 0,
    k,
    atomFeatures: new Float32Array(0),
    neighbourIndex: new Int32Array(0),
    neighbourDistance: new Float32Array(0),
    neighbourCosine: new Float32Array(0),
    compositionDescriptors,
  };
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
  const compositionDescriptors = Float32Array.from(compositionFeatures(cellAmounts(structure), ELEMENT_TABLE_PROPERTIES));
  if (options.neighbourhood === 'smooth') {
    const nb = smoothNeighbourhoods(structure.lattice, wrappedFractional(structure), k, options.marginAngstrom ?? 0.5);
    return {
      numAtoms: n,
      k,
      atomFeatures,
      neighbourIndex: new Int32Array(0),
      neighbourDistance: new Float32Array(0),
      neighbourCosine: new Float32Array(0),
      compositionDescriptors,
      edges: { center: nb.center, neighbour: nb.neighbour, distance: Float32Array.from(nb.distance), weight: Float32Array.from(nb.weight) },
    };
  }
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
  return { numAtoms: n, k, atomFeatures, neighbourIndex: list.index, neighbourDistance, neighbourCosine, compositionDescriptors };
}

/**
 * Cache key of `buildCrystalGraph(structure, {k})`: sha256 over the graph version, element-table
 * hash, k and the structure exactly as given (site order matters: it is the last tie key).
 */
export function crystalGraphCacheKey(structure: Structure, options: CrystalGraphOptions): string {
  const body = JSON.stringify({ lattice: structure.lattice, sites: structure.sites.map((s) => [s.species, s.frac]) });
  return createHash('sha256')
    .update(`${CRYSTAL_GRAPH_VERSION}|${elementTableHash()}|k=${options.k}|${options.neighbourhood ?? 'slots'}|${options.marginAngstrom ?? ''}|${body}`)
    .digest('hex');
}
