/**
 * The one element table of the project: symbol, atomic number Z, standard atomic mass (u) and
 * Pauling electronegativity (the values pymatgen uses to order formulas; NaN where Pauling gives
 * none, e.g. He, Ne, Ar). Masses of radioactive elements are the mass number of the longest-lived
 * isotope. Z runs 1..118.
 */
import { BadInputError, MAX_QUOTED_INPUT_CHARS, quoteInput } from '../errors.js';

export interface ElementData {
  symbol: string;
  /** Atomic number. */
  Z: number;
  /** Standard atomic mass in u (g/mol). */
  atomicMass: number;
  /** Pauling electronegativity; NaN when undefined. */
  electronegativity: number;
}

// [symbol, mass (u), Pauling X] in order of Z (index + 1).
const RAW: ReadonlyArray<readonly [string, number, number]> = [
  ['H', 1.00794, 2.2], ['He', 4.002602, NaN], ['Li', 6.941, 0.98], ['Be', 9.012182, 1.57],
  ['B', 10.811, 2.04], ['C', 12.0107, 2.55], ['N', 14.0067, 3.04], ['O', 15.9994, 3.44],
  ['F', 18.9984032, 3.98], ['Ne', 20.1797, NaN], ['Na', 22.98976928, 0.93], ['Mg', 24.305, 1.31],
  ['Al', 26.9815386, 1.61], ['Si', 28.0855, 1.9], ['P', 30.973762, 2.19], ['S', 32.065, 2.58],
  ['Cl', 35.453, 3.16], ['Ar', 39.948, NaN], ['K', 39.0983, 0.82], ['Ca', 40.078, 1.0],
  ['Sc', 44.955912, 1.36], ['Ti', 47.867, 1.54], ['V', 50.9415, 1.63], ['Cr', 51.9961, 1.66],
  ['Mn', 54.938045, 1.55], ['Fe', 55.845, 1.83], ['Co', 58.933195, 1.88], ['Ni', 58.6934, 1.91],
  ['Cu', 63.546, 1.9], ['Zn', 65.38, 1.65], ['Ga', 69.723, 1.81], ['Ge', 72.64, 2.01],
  ['As', 74.9216, 2.18], ['Se', 78.96, 2.55], ['Br', 79.904, 2.96], ['Kr', 83.798, 3.0],
  ['Rb', 85.4678, 0.82], ['Sr', 87.62, 0.95], ['Y', 88.90585, 1.22], ['Zr', 91.224, 1.33],
  ['Nb', 92.90638, 1.6], ['Mo', 95.96, 2.16], ['Tc', 98, 1.9], ['Ru', 101.07, 2.2],
  ['Rh', 102.9055, 2.28], ['Pd', 106.42, 2.2], ['Ag', 107.8682, 1.93], ['Cd', 112.411, 1.69],
  ['In', 114.818, 1.78], ['Sn', 118.71, 1.96], ['Sb', 121.76, 2.05], ['Te', 127.6, 2.1],
  ['I', 126.90447, 2.66], ['Xe', 131.293, 2.6], ['Cs', 132.9054519, 0.79], ['Ba', 137.327, 0.89],
  ['La', 138.90547, 1.1], ['Ce', 140.116, 1.12], ['Pr', 140.90765, 1.13], ['Nd', 144.242, 1.14],
  ['Pm', 145, 1.13], ['Sm', 150.36, 1.17], ['Eu', 151.964, 1.2], ['Gd', 157.25, 1.2],
  ['Tb', 158.92535, 1.1], ['Dy', 162.5, 1.22], ['Ho', 164.93032, 1.23], ['Er', 167.259, 1.24],
  ['Tm', 168.93421, 1.25], ['Yb', 173.054, 1.1], ['Lu', 174.9668, 1.27], ['Hf', 178.49, 1.3],
  ['Ta', 180.94788, 1.5], ['W', 183.84, 2.36], ['Re', 186.207, 1.9], ['Os', 190.23, 2.2],
  ['Ir', 192.217, 2.2], ['Pt', 195.084, 2.28], ['Au', 196.966569, 2.54], ['Hg', 200.59, 2.0],
  ['Tl', 204.3833, 1.62], ['Pb', 207.2, 2.33], ['Bi', 208.9804, 2.02], ['Po', 209, 2.0],
  ['At', 210, 2.2], ['Rn', 222, 2.2], ['Fr', 223, 0.7], ['Ra', 226, 0.9],
  ['Ac', 227, 1.1], ['Th', 232.03806, 1.3], ['Pa', 231.03588, 1.5], ['U', 238.02891, 1.38],
  ['Np', 237, 1.36], ['Pu', 244, 1.28], ['Am', 243, 1.3], ['Cm', 247, 1.3],
  ['Bk', 247, 1.3], ['Cf', 251, 1.3], ['Es', 252, 1.3], ['Fm', 257, 1.3],
  ['Md', 258, 1.3], ['No', 259, 1.3], ['Lr', 262, 1.3], ['Rf', 267, NaN],
  ['Db', 268, NaN], ['Sg', 269, NaN], ['Bh', 270, NaN], ['Hs', 277, NaN],
  ['Mt', 278, NaN], ['Ds', 281, NaN], ['Rg', 282, NaN], ['Cn', 285, NaN],
  ['Nh', 286, NaN], ['Fl', 289, NaN], ['Mc', 290, NaN], ['Lv', 293, NaN],
  ['Ts', 294, NaN], ['Og', 294, NaN],
];

/** All elements in order of Z (ELEMENTS[Z - 1]). */
export const ELEMENTS: readonly ElementData[] = Object.freeze(
  RAW.map(([symbol, atomicMass, electronegativity], i) =>
    Object.freeze({ symbol, Z: i + 1, atomicMass, electronegativity }),
  ),
);

const BY_SYMBOL: ReadonlyMap<string, ElementData> = new Map(ELEMENTS.map((e) => [e.symbol, e]));

/** The element with this exact symbol ("Li"), or undefined. */
export function findElement(symbol: string): ElementData | undefined {
  return BY_SYMBOL.get(symbol);
}

/** The element with this exact symbol; throws BadInputError naming the unknown element. */
export function elementBySymbol(symbol: string): ElementData {
  const el = BY_SYMBOL.get(symbol);
  if (!el) throw new BadInputError(`unknown element symbol ${quoteInput(symbol)}`, { symbol: symbol.slice(0, MAX_QUOTED_INPUT_CHARS) });
  return el;
}

/** The element with atomic number Z (1..118); throws BadInputError otherwise. */
export function elementByNumber(Z: number): ElementData {
  const el = Number.isInteger(Z) ? ELEMENTS[Z - 1] : undefined;
  if (!el) throw new BadInputError(`unknown element with atomic number ${Z}`, { Z });
  return el;
}

/**
 * Element symbol at the start of a CIF label or typed symbol, as pymatgen reads them:
 * "Li1" → Li, "Li+" → Li, "O2-" → O, "Fe3+" → Fe, "OW1" → O, "li" → Li. Tries two letters first.
 * Returns undefined when neither the first two nor the first letter form an element.
 */
export function elementFromLabel(label: string): string | undefined {
  const m = /^[^A-Za-z]*([A-Za-z])([A-Za-z]?)/.exec(label);
  if (!m) return undefined;
  const first = m[1]!.toUpperCase();
  if (m[2]) {
    const two = first + m[2].toLowerCase();
    if (BY_SYMBOL.has(two)) return two;
  }
  return BY_SYMBOL.has(first) ? first : undefined;
}

/** What may follow the element in a CIF type symbol: an oxidation state ("+", "1+", "2-", "+3", "0.5+") or a label suffix starting with a digit ("2", "1a"). */
const TYPE_SYMBOL_SUFFIX = /^(?:|\d+(?:\.\d+)?[+-]|[+-](?:\d+(?:\.\d+)?)?|\d[A-Za-z0-9_]*)$/;

/**
 * The element of a CIF `_atom_site_type_symbol`: an element symbol (any case), optionally followed
 * by an oxidation state ("Li1+", "O2-") or a label-like suffix that starts with a digit ("O2",
 * "Li1a"). Anything else is undefined — "Cx" (a typo for Cl) is not read as carbon, as a lenient
 * label reader would. Two letters are tried first ("Co1" is cobalt).
 */
export function elementFromTypeSymbol(symbol: string): string | undefined {
  const text = symbol.trim();
  for (const length of [2, 1]) {
    if (text.length < length || !/^[A-Za-z]+$/.test(text.slice(0, length))) continue;
    const candidate = text.charAt(0).toUpperCase() + text.slice(1, length).toLowerCase();
    if (BY_SYMBOL.has(candidate) && TYPE_SYMBOL_SUFFIX.test(text.slice(length))) return candidate;
  }
  return undefined;
}

/** Sort key used for formulas: electronegativity (NaN last), then symbol. */
export function compareByElectronegativity(a: string, b: string): number {
  const xa = BY_SYMBOL.get(a)?.electronegativity ?? NaN;
  const xb = BY_SYMBOL.get(b)?.electronegativity ?? NaN;
  const ka = Number.isNaN(xa) ? Infinity : xa;
  const kb = Number.isNaN(xb) ? Infinity : xb;
  if (ka !== kb) return ka - kb;
  return a < b ? -1 : a > b ? 1 : 0;
}
