/**
 * Compositions: parsing formula text ("Li6.4La3Zr1.4Ta0.6O12", "LiTi2(PO4)3") and writing
 * formula strings in pymatgen's style (elements by Pauling electronegativity, then symbol;
 * amount 1 omitted; reduced formula divided by the gcd, with a trailing polyanion group such as
 * "(PO4)3" when the two most electronegative elements differ by < 1.65).
 */
import { BadInputError, quoteInput } from '../errors.js';
import { compareByElectronegativity, findElement } from './elements.js';
import type { CompositionFacts } from './types.js';

/** element → amount */
export type Amounts = Record<string, number>;

/** Amounts within this of an integer count as integers (float sums of occupancies carry noise). */
const INTEGER_TOLERANCE = 1e-6;
/** Amounts are written with at most this many decimals. */
const AMOUNT_DECIMALS = 4;
/** Amounts up to this count as zero: formulas leave such elements out. */
export const NEGLIGIBLE_AMOUNT = 1e-8;
/** Smallest amount a formula shows with AMOUNT_DECIMALS = 4 decimals (less would be written "Li0"). */
export const MIN_AMOUNT = 1e-4;
/** Largest amount of an element in a composition: keeps formulas in plain decimals ("Li1e+21" is not a formula). */
export const MAX_AMOUNT = 1e6;
/** Deepest nesting of ( ) and [ ] groups accepted ("[Li(OH)2]3" is 2). */
export const MAX_GROUP_DEPTH = 16;

/** pymatgen's special reduced formulas (peroxides, superoxides and diatomic elements). */
const SPECIAL_FORMULAS: Record<string, string> = {
  LiO: 'LiO2', NaO: 'NaO2', KO: 'KO2', HO: 'H2O2', CsO: 'CsO2', RbO: 'RbO2',
  O: 'O2', N: 'N2', F: 'F2', Cl: 'Cl2', H: 'H2',
};

function isInteger(x: number): boolean {
  return Math.abs(x - Math.round(x)) < INTEGER_TOLERANCE;
}

/** "7", "6.4", "0.5570" → "0.557"; `omitOne` drops the amount 1. */
export function formatAmount(x: number, omitOne = true): string {
  if (isInteger(x)) {
    const n = Math.round(x);
    return omitOne && n === 1 ? '' : String(n);
  }
  return String(+x.toFixed(AMOUNT_DECIMALS));
}

function sortedSymbols(amounts: Amounts): string[] {
  return Object.keys(amounts)
    .filter((el) => amounts[el]! > NEGLIGIBLE_AMOUNT)
    .sort(compareByElectronegativity);
}

/** "Li6.4La3Zr1.4Ta0.6O12": amounts as given, electronegativity order, 1 omitted. */
export function formulaString(amounts: Amounts): string {
  return sortedSymbols(amounts).map((el) => el + formatAmount(amounts[el]!)).join('');
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return Math.abs(a);
}

/** pymatgen's reduce_formula for integer amounts: returns the string and the factor divided out. */
function reduceIntegerFormula(amounts: Record<string, number>): { formula: string; factor: number } {
  const syms = sortedSymbols(amounts);
  const factor = syms.map((s) => amounts[s]!).reduce(gcd, 0) || 1;
  let polyanion = '';
  if (syms.length >= 3) {
    const x1 = findElement(syms[syms.length - 1]!)!.electronegativity;
    const x2 = findElement(syms[syms.length - 2]!)!.electronegativity;
    if (x1 - x2 < 1.65) {
      const last2 = syms.slice(-2);
      const poly = reduceIntegerFormula(Object.fromEntries(last2.map((s) => [s, amounts[s]! / factor])));
      if (poly.factor !== 1) polyanion = `(${poly.formula})${poly.factor}`;
    }
  }
  const kept = polyanion ? syms.slice(0, -2) : syms;
  const formula = kept.map((s) => s + formatAmount(amounts[s]! / factor)).join('') + polyanion;
  return { formula, factor };
}

/**
 * Reduced formula: divided by the gcd when all amounts are integers ("Li14La6Zr4O24" →
 * "Li7La3Zr2O12", "Li3Ti6P9O36" → "LiTi2(PO4)3"); a non-integer composition is written as is
 * ("Li6.4La3Zr1.4Ta0.6O12").
 */
export function reducedFormulaString(amounts: Amounts): string {
  const syms = sortedSymbols(amounts);
  if (!syms.every((s) => isInteger(amounts[s]!))) return formulaString(amounts);
  const ints = Object.fromEntries(syms.map((s) => [s, Math.round(amounts[s]!)]));
  const { formula } = reduceIntegerFormula(ints);
  return SPECIAL_FORMULAS[formula] ?? formula;
}

/** Facts of an amounts map (formula, reduced formula, sorted elements, atom count). */
export function compositionFacts(amounts: Amounts): CompositionFacts {
  const elements = Object.keys(amounts).filter((el) => amounts[el]! > NEGLIGIBLE_AMOUNT).sort();
  const clean = Object.fromEntries(elements.map((el) => [el, amounts[el]!]));
  return {
    formula: formulaString(clean),
    reducedFormula: reducedFormulaString(clean),
    elements,
    nelements: elements.length,
    natoms: elements.reduce((acc, el) => acc + clean[el]!, 0),
    amounts: clean,
  };
}

/**
 * Parses formula text: element symbols with optional decimal amounts, nested ( ) or [ ] groups
 * with multipliers, whitespace ignored. "LiTi2(PO4)3" → {Li: 1, Ti: 2, P: 3, O: 12}.
 * Throws BadInputError for an unknown element or malformed text.
 */
export function parseComposition(text: string): CompositionFacts {
  if (typeof text !== 'string' || text.trim() === '') throw new BadInputError('empty composition');
  const src = text.replace(/\s+/g, '');
  let i = 0;
  const fail = (why: string): never => {
    throw new BadInputError(`cannot parse composition ${quoteInput(text)}: ${why} at position ${i + 1}`);
  };
  const readAmount = (): number => {
    const m = /^(\d+\.?\d*|\.\d+)/.exec(src.slice(i));
    if (!m) return 1;
    i += m[0].length;
    return Number(m[0]);
  };
  const CLOSE: Record<string, string> = { '(': ')', '[': ']' };
  const parseGroup = (closing: string | undefined, depth: number): Amounts => {
    // Recursion per group: without a bound, 100,000 "(" overflowed the stack (a RangeError).
    if (depth > MAX_GROUP_DEPTH) fail(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
    const acc: Amounts = {};
    const add = (el: string, n: number) => {
      acc[el] = (acc[el] ?? 0) + n;
    };
    while (i < src.length) {
      const ch = src[i]!;
      if (ch === '(' || ch === '[') {
        i++;
        const inner = parseGroup(CLOSE[ch], depth + 1);
        const mult = readAmount();
        for (const [el, n] of Object.entries(inner)) add(el, n * mult);
      } else if (ch === ')' || ch === ']') {
        if (ch !== closing) fail(`unexpected ${quoteInput(ch)}`);
        i++;
        return acc;
      } else if (/[A-Z]/.test(ch)) {
        const m = /^[A-Z][a-z]?/.exec(src.slice(i))!;
        // A lower-case letter always belongs to the symbol: "Xy" is an unknown element, not X + y.
        const sym = m[0];
        if (!findElement(sym)) fail(`unknown element ${quoteInput(sym)}`);
        i += sym.length;
        add(sym, readAmount());
      } else {
        fail(`unexpected character ${quoteInput(ch)}`);
      }
    }
    if (closing) fail(`missing "${closing}"`);
    return acc;
  };
  const amounts = parseGroup(undefined, 0);
  if (Object.keys(amounts).length === 0) fail('no elements');
  // "Li0" or "(Li)0" would leave an empty formula; 400 digits are Infinity ("LiInfinity").
  for (const [el, n] of Object.entries(amounts)) {
    if (!(n >= MIN_AMOUNT && n <= MAX_AMOUNT)) {
      throw new BadInputError(`composition ${quoteInput(text)}: the amount of ${el} is ${n}, outside ${MIN_AMOUNT}..${MAX_AMOUNT}`);
    }
  }
  return compositionFacts(amounts);
}
