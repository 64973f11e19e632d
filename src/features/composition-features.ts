/**
 * Composition-only descriptors in the spirit of Magpie (Ward et al. 2016): for each element
 * property, statistics over the composition weighted by atomic fraction, plus a few
 * stoichiometric attributes. Needs only a formula, so it covers the 224 OBELiX rows without a
 * structure as well.
 *
 * Per property x with atomic fractions f_i (Σ f_i = 1):
 *   mean = Σ f_i x_i;  min, max over present elements;  range = max − min;
 *   meanAbsoluteDeviation = Σ f_i |x_i − mean|.
 * Stoichiometric: Li fraction, number of elements, L2/L3/L5/L10 norms of the fractions.
 */
import { BadInputError } from '../errors.js';
import { ELEMENT_PROPERTY_NAMES, elementPropertyVector } from './element-property-vector.js';
import type { Amounts } from '../structure/index.js';

/** Where per-element property values come from (the project's element table). */
export interface ElementPropertySource {
  /** Property names, one per vector entry. */
  readonly names: readonly string[];
  /** Property values of an element; NaN marks a missing value. */
  vector(symbol: string): ArrayLike<number>;
}

const STATISTICS = ['mean', 'min', 'max', 'range', 'meanAbsoluteDeviation'] as const;
const STOICHIOMETRY = ['liFraction', 'nElements', 'fractionNormL2', 'fractionNormL3', 'fractionNormL5', 'fractionNormL10'] as const;

export function compositionFeatureNames(source: ElementPropertySource): string[] {
  return [...source.names.flatMap((name) => STATISTICS.map((stat) => `${stat}:${name}`)), ...STOICHIOMETRY];
}

/**
 * The descriptor vector (length compositionFeatureNames(source).length). A property missing for
 * some elements is averaged over the elements that have it (fractions renormalised); missing
 * for all → 0 for every statistic of that property, so the vector is always finite.
 */
export function compositionFeatures(amounts: Amounts, source: ElementPropertySource): Float64Array {
  const elements = Object.keys(amounts).filter((el) => amounts[el]! > 0);
  const total = elements.reduce((sum, el) => sum + amounts[el]!, 0);
  if (elements.length === 0 || !(total > 0)) throw new BadInputError('cannot featurise an empty composition');
  const fractions = elements.map((el) => amounts[el]! / total);
  const vectors = elements.map((el) => source.vector(el));
  const nProps = source.names.length;
  const out = new Float64Array(nProps * STATISTICS.length + STOICHIOMETRY.length);

  for (let prop = 0; prop < nProps; prop++) {
    let weight = 0;
    let mean = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < elements.length; e++) {
      const value = vectors[e]![prop]!;
      if (!Number.isFinite(value)) continue;
      weight += fractions[e]!;
      mean += fractions[e]! * value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    if (weight === 0) continue; // no element has this property: all statistics stay 0
    mean /= weight;
    let deviation = 0;
    for (let e = 0; e < elements.length; e++) {
      const value = vectors[e]![prop]!;
      if (Number.isFinite(value)) deviation += (fractions[e]! / weight) * Math.abs(value - mean);
    }
    out.set([mean, min, max, max - min, deviation], prop * STATISTICS.length);
  }

  const norm = (q: number) => fractions.reduce((sum, f) => sum + f ** q, 0) ** (1 / q);
  out.set(
    [(amounts['Li'] ?? 0) / total, elements.length, norm(2), norm(3), norm(5), norm(10)],
    nProps * STATISTICS.length,
  );
  return out;
}

/**
 * A fixed scale per descriptor, from the element table alone (no data): each property's statistics
 * are divided by that property's standard deviation over elements 1–100 (1 where it is 0), the
 * stoichiometric attributes by 1, except the element count by 5. Models divide by it so their
 * inputs are O(1) from the first step (BatchNorm follows, so a per-column scale changes nothing
 * once trained; it keeps untrained and early models well conditioned).
 */
export function compositionFeatureScales(source: ElementPropertySource, symbols: readonly string[]): Float64Array {
  const nProps = source.names.length;
  const out = new Float64Array(nProps * STATISTICS.length + STOICHIOMETRY.length).fill(1);
  const vectors = symbols.map((el) => source.vector(el));
  for (let prop = 0; prop < nProps; prop++) {
    const values = vectors.map((v) => v[prop]!).filter(Number.isFinite);
    if (values.length < 2) continue;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    if (sd > 0) out.fill(sd, prop * STATISTICS.length, (prop + 1) * STATISTICS.length);
  }
  out[nProps * STATISTICS.length + STOICHIOMETRY.indexOf('nElements')] = 5;
  return out;
}

/** The project's element table (src/features) as a property source. */
export const ELEMENT_TABLE_PROPERTIES: ElementPropertySource = {
  names: ELEMENT_PROPERTY_NAMES,
  vector: elementPropertyVector,
};
