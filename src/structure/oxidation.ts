/**
 * Chemical plausibility of a composition: an oxidation-state assignment that balances charge, as
 * pymatgen's `Composition.oxi_state_guesses()` does by default, and two element facts.
 *
 * pymatgen (2022.11.7, `Composition._get_oxid_state_guesses`), which this follows:
 * - each element may take its ICSD oxidation states (`Element.icsd_oxidation_states`, or every known
 *   state when the ICSD list is empty; data/elements/oxidation_states.json);
 * - every atom of an element picks a state independently (mixed valence: Fe3O4 balances with
 *   Fe at +8/3), so an element of n atoms can sum to any total of n picks;
 * - a solution is a choice of one total per element summing to zero; solutions are ranked by the sum
 *   over atoms of how often ICSD holds that species (`icsd_bv.yaml` occurrence counts;
 *   data/elements/oxidation_state_occurrence.json), and the best one gives the average state per
 *   element (LiC6: Li +1, C −1/6).
 * pymatgen enumerates `combinations_with_replacement(states, n)` per element and the product of
 * the elements' totals; here the same maxima come from two dynamic programmes (per element over atom
 * counts, then over elements), which give the same set of totals and the same best score without
 * the combinatorial blow-up.
 *
 * The composition assessed is the reduced one (the formula unit: what the issue's reference figure,
 * 143 of the pool's 279, was computed on; test/fixtures/pymatgen-oxidation.json). pymatgen refuses
 * non-integer amounts (partial occupancy) with a ValueError; here they are first scaled by the
 * smallest integer that makes every amount whole (each amount read as a fraction with denominator
 * ≤ MAX_DENOMINATOR), so Li6.4La3Zr1.4Ta0.6O12 is assessed as Li32La15Zr7Ta3O60. A formula that
 * needs more than MAX_FORMULA_ATOMS atoms that way (Li5.046Sn4.738S12) is assessed in the limit of
 * many atoms (`continuousOxidationStates`), which the exact search approaches as formulas grow.
 */
import oxidationDocument from '../../data/elements/oxidation_states.json' with { type: 'json' };
import occurrenceDocument from '../../data/elements/oxidation_state_occurrence.json' with { type: 'json' };
import type { Amounts } from './composition.js';

interface OxidationEntry {
  Z: number;
  common_oxidation_states: number[];
  icsd_oxidation_states: number[];
  oxidation_states: number[];
}

const TABLE = (oxidationDocument as { elements: Record<string, OxidationEntry> }).elements;
const OCCURRENCE = (occurrenceDocument as { occurrence: Record<string, Record<string, number>> }).occurrence;

/** Largest denominator read from a partial occupancy (1/1000 is finer than any CIF occupancy in use). */
export const MAX_DENOMINATOR = 1000;
/** Most atoms in the integer formula searched exactly; beyond it the continuous limit is used. */
export const MAX_FORMULA_ATOMS = 500;
/** pymatgen's Composition.amount_tolerance. */
const AMOUNT_TOLERANCE = 1e-8;

/**
 * Elements that form monatomic anions in ionic solids: hydrogen (hydride) and the non-metals of
 * groups 15–17. Carbon, boron and silicon are left out: their Li compounds in screening pools are
 * intercalation compounds and Zintl phases (LiC6, LiB, Li21Si5), not salts.
 */
export const ANION_ELEMENTS: ReadonlySet<string> = new Set(['H', 'N', 'P', 'As', 'O', 'S', 'Se', 'Te', 'F', 'Cl', 'Br', 'I']);

/** d-block elements, groups 3–12. */
const TRANSITION_METALS = [
  'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn',
  'Y', 'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd',
  'Hf', 'Ta', 'W', 'Re', 'Os', 'Ir', 'Pt', 'Au', 'Hg',
] as const;
/** A positive state is common when it holds at least this share of the element's positive-state ICSD occurrences. */
export const COMMON_STATE_SHARE = 0.1;

/**
 * Transition metals that ICSD commonly finds in two or more positive oxidation states (each ≥ 10 %
 * of the element's positive-state occurrences; for the four without ICSD data — Tc, Os, Pt, Au —
 * two or more positive known states): a compound holding one can be reduced by lithium metal and
 * conduct electrons, the screening criterion of Sendek et al. (2017). From the data: Ti, V, Cr, Mn,
 * Fe, Co, Ni, Cu, Nb, Mo, Ru, Rh, Re, Ir, Hg and Tc, Os, Pt, Au; not Sc, Zn, Y, Zr, Pd, Ag, Cd, Hf,
 * Ta, W (Zr3+, Ta4+, Pd4+ and W5+ are under 10 %).
 */
export const REDUCIBLE_TRANSITION_METALS: ReadonlySet<string> = new Set(
  TRANSITION_METALS.filter((el) => {
    const counts = OCCURRENCE[el];
    const positive = Object.entries(counts ?? {}).filter(([state]) => Number(state) > 0);
    if (positive.length === 0) return candidateStates(el).filter((s) => s > 0).length >= 2;
    const total = positive.reduce((sum, [, n]) => sum + n, 0);
    return positive.filter(([, n]) => n / total >= COMMON_STATE_SHARE).length >= 2;
  }),
);

export interface Plausibility {
  /** True when some assignment of ICSD states balances charge; null only for an empty composition. */
  chargeBalanced: boolean | null;
  /** Average oxidation state per element of the best balancing assignment; null when none. */
  oxidationStates: Record<string, number> | null;
  hasAnion: boolean;
  hasReducibleTransitionMetal: boolean;
}

/** The states an element may take (pymatgen: ICSD states, else every known state). */
export function candidateStates(element: string): readonly number[] {
  const entry = TABLE[element];
  if (!entry) return [];
  return entry.icsd_oxidation_states.length > 0 ? entry.icsd_oxidation_states : entry.oxidation_states;
}

function occurrence(element: string, state: number): number {
  return OCCURRENCE[element]?.[String(state)] ?? 0;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Best rational p/q ≈ x with q ≤ maxDenominator (continued fractions, like Python's limit_denominator). */
function denominatorOf(x: number, maxDenominator: number): number {
  let [p0, q0, p1, q1] = [0, 1, 1, 0];
  let value = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(value);
    const q2 = q0 + a * q1;
    if (q2 > maxDenominator) break;
    [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
    const frac = value - a;
    if (frac < 1e-12 || Math.abs(p1 / q1 - x) < 1e-9) break;
    value = 1 / frac;
  }
  return q1;
}

/**
 * The integer formula unit assessed: amounts scaled to whole numbers (partial occupancy), then
 * divided by their greatest common divisor. Null when it would hold more than MAX_FORMULA_ATOMS.
 */
export function integerFormulaUnit(amounts: Amounts): Record<string, number> | null {
  const entries = Object.entries(amounts).filter(([, x]) => x > AMOUNT_TOLERANCE);
  if (entries.length === 0) return null;
  let scale = 1;
  if (!entries.every(([, x]) => Math.abs(x - Math.round(x)) < AMOUNT_TOLERANCE)) {
    for (const [, x] of entries) {
      const q = denominatorOf(x, MAX_DENOMINATOR);
      scale = (scale * q) / gcd(scale, q);
      if (scale > MAX_FORMULA_ATOMS) return null;
    }
  }
  const counts = entries.map(([el, x]) => [el, Math.round(x * scale)] as const);
  const divisor = counts.reduce((g, [, n]) => gcd(g, n), 0);
  const unit = Object.fromEntries(counts.map(([el, n]) => [el, n / divisor]));
  const total = Object.values(unit).reduce((a, b) => a + b, 0);
  return total > MAX_FORMULA_ATOMS || Object.values(unit).some((n) => n === 0) ? null : unit;
}

/**
 * For n atoms of an element: every reachable total of their states, with the best summed ICSD
 * occurrence of a pick reaching it (pymatgen's `el_sum_scores`).
 */
function elementTotals(element: string, n: number): Map<number, number> {
  const states = candidateStates(element);
  let totals = new Map<number, number>([[0, 0]]);
  for (let atom = 0; atom < n; atom++) {
    const next = new Map<number, number>();
    for (const [total, score] of totals) {
      for (const state of states) {
        const t = total + state;
        const s = score + occurrence(element, state);
        const best = next.get(t);
        if (best === undefined || s > best) next.set(t, s);
      }
    }
    totals = next;
  }
  return totals;
}

/** The best charge-balancing assignment of a formula unit (integer amounts), or null when none exists. */
export function bestOxidationStates(unit: Record<string, number>): Record<string, number> | null {
  const elements = Object.keys(unit);
  // total charge → best score and the chosen total of each element so far.
  let partial = new Map<number, { score: number; picks: number[] }>([[0, { score: 0, picks: [] }]]);
  for (const element of elements) {
    const totals = elementTotals(element, unit[element]!);
    const next = new Map<number, { score: number; picks: number[] }>();
    for (const [charge, { score, picks }] of partial) {
      for (const [total, elementScore] of totals) {
        const c = charge + total;
        const s = score + elementScore;
        const best = next.get(c);
        if (best === undefined || s > best.score) next.set(c, { score: s, picks: [...picks, total] });
      }
    }
    partial = next;
  }
  const balanced = partial.get(0);
  if (!balanced) return null;
  return Object.fromEntries(elements.map((el, i) => [el, balanced.picks[i]! / unit[el]!]));
}

/**
 * Charge balance of a formula too large to enumerate (partial occupancies that need more than
 * MAX_FORMULA_ATOMS atoms as whole numbers): the limit of mixed valence over many atoms, where an
 * element's average state may be anything between its lowest and highest state. It balances when
 * zero lies between the lowest and the highest total charge; the averages start at each element's
 * most frequent ICSD state and are moved toward the bounds, in proportion to the room each has,
 * until the charge is zero. An element without states makes it unbalanced, as in the exact search.
 */
export function continuousOxidationStates(amounts: Record<string, number>): Record<string, number> | null {
  const elements = Object.keys(amounts);
  const bounds = elements.map((el) => candidateStates(el));
  if (bounds.some((states) => states.length === 0)) return null;
  const lo = bounds.map((s) => Math.min(...s));
  const hi = bounds.map((s) => Math.max(...s));
  const n = elements.map((el) => amounts[el]!);
  const low = n.reduce((sum, x, i) => sum + x * lo[i]!, 0);
  const high = n.reduce((sum, x, i) => sum + x * hi[i]!, 0);
  if (low > 1e-9 || high < -1e-9) return null;
  const start = elements.map((el, i) =>
    bounds[i]!.reduce((best, s) => (occurrence(el, s) > occurrence(el, best) ? s : best), bounds[i]![0]!),
  );
  const charge = n.reduce((sum, x, i) => sum + x * start[i]!, 0);
  // Positive charge: lower the averages toward their lowest states; negative: raise them.
  const room = elements.map((_, i) => n[i]! * (charge > 0 ? start[i]! - lo[i]! : hi[i]! - start[i]!));
  const total = room.reduce((a, b) => a + b, 0);
  const share = total > 0 ? Math.abs(charge) / total : 0;
  return Object.fromEntries(elements.map((el, i) => [el, start[i]! + (charge > 0 ? -1 : 1) * share * (room[i]! / n[i]!)]));
}

/** Charge balance and the element facts of a composition (element → amount, partial occupancy allowed). */
export function assessPlausibility(amounts: Amounts): Plausibility {
  const elements = Object.keys(amounts).filter((el) => amounts[el]! > AMOUNT_TOLERANCE);
  const unit = integerFormulaUnit(amounts);
  const oxidationStates = unit
    ? bestOxidationStates(unit)
    : elements.length > 0
      ? continuousOxidationStates(Object.fromEntries(elements.map((el) => [el, amounts[el]!])))
      : null;
  return {
    chargeBalanced: elements.length > 0 ? oxidationStates !== null : null,
    oxidationStates,
    hasAnion: elements.some((el) => ANION_ELEMENTS.has(el)),
    hasReducibleTransitionMetal: elements.some((el) => REDUCIBLE_TRANSITION_METALS.has(el)),
  };
}
