/**
 * VASP 5 POSCAR / CONTCAR → Structure.
 *
 * Layout: comment; scale (one number; negative = target cell volume in Å³; or three per-axis
 * factors); three lattice rows (Å before scaling); species symbols; counts; optional
 * "Selective dynamics"; "Direct" or "Cartesian"; one coordinate line per atom. VASP 4 files
 * (no species line) are rejected: without symbols the elements would be guesses.
 */
import { quoteInput, StructureParseError } from '../errors.js';
import { findElement } from './elements.js';
import { cartToFrac, invertMat3, latticeDeterminant } from './lattice.js';
import type { Mat3, Site, Structure, Vec3 } from './structure.js';

const FORMAT = 'POSCAR';

function fail(message: string, line?: number): never {
  throw new StructureParseError(FORMAT, message, line);
}

function numbers(tokens: string[], count: number, lineNo: number, what: string): number[] {
  if (tokens.length < count) fail(`expected ${count} numbers for ${what}, found ${tokens.length}`, lineNo);
  return tokens.slice(0, count).map((t) => {
    const x = Number(t);
    if (!Number.isFinite(x)) fail(`${what}: ${quoteInput(t)} is not a finite number`, lineNo);
    return x;
  });
}

/** "Li_sv" → "Li", "Li/1a2b3c" (VASP 5.4 hash suffix) → "Li". */
function speciesSymbol(token: string): string {
  return token.split(/[_/]/)[0]!;
}

export interface PoscarReadOptions {
  /** Reject at the counts line when there are more atoms than this (POSCAR atoms never merge). */
  maxSites?: number;
}

export function readPoscar(text: string, options: PoscarReadOptions = {}): Structure {
  const lines = text.split(/\r\n|\r|\n/);
  // Cursor over non-empty content lines, keeping their 1-based line numbers.
  let li = 0;
  const next = (what: string): { tokens: string[]; lineNo: number } => {
    if (li >= lines.length) fail(`file ends before the ${what}`, lines.length);
    const lineNo = li + 1;
    const tokens = lines[li++]!.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) fail(`blank line where the ${what} was expected`, lineNo);
    return { tokens, lineNo };
  };

  li = 1; // Line 1 is a free comment.
  const scaleLine = next('scale factor');
  const scaleTokens = scaleLine.tokens.length >= 3 && scaleLine.tokens.slice(0, 3).every((t) => Number.isFinite(Number(t)))
    ? numbers(scaleLine.tokens, 3, scaleLine.lineNo, 'scale factors')
    : numbers(scaleLine.tokens, 1, scaleLine.lineNo, 'scale factor');

  const rawLattice: Vec3[] = [];
  for (let k = 0; k < 3; k++) {
    const l = next(`lattice vector ${k + 1}`);
    rawLattice.push(numbers(l.tokens, 3, l.lineNo, `lattice vector ${k + 1}`) as Vec3);
  }

  let axisScale: Vec3;
  if (scaleTokens.length === 3) {
    if (scaleTokens.some((s) => s <= 0)) fail('per-axis scale factors must be positive', scaleLine.lineNo);
    axisScale = scaleTokens as Vec3;
  } else {
    const s = scaleTokens[0]!;
    if (s === 0) fail('scale factor is zero', scaleLine.lineNo);
    if (s > 0) axisScale = [s, s, s];
    else {
      // Negative scale = wanted cell volume (Å³).
      const v0 = Math.abs(latticeDeterminant(rawLattice as Mat3));
      if (!(v0 > 0)) fail('singular lattice: zero volume, cannot scale to the requested volume', scaleLine.lineNo);
      const f = Math.cbrt(-s / v0);
      axisScale = [f, f, f];
    }
  }
  const lattice = rawLattice.map((row, k) => row.map((x) => x * axisScale[k]!)) as Mat3;

  const speciesLine = next('species line');
  if (speciesLine.tokens.every((t) => /^\d+$/.test(t))) {
    fail('VASP 4 format (no element symbols line) is not supported: add the species line (VASP 5) above the counts', speciesLine.lineNo);
  }
  const symbols = speciesLine.tokens.map((t) => {
    const sym = speciesSymbol(t);
    if (!findElement(sym)) fail(`unknown element ${quoteInput(t)} in the species line`, speciesLine.lineNo);
    return sym;
  });
  const countLine = next('atom counts');
  if (countLine.tokens.length !== symbols.length) {
    fail(`${symbols.length} species but ${countLine.tokens.length} counts`, countLine.lineNo);
  }
  const counts = countLine.tokens.map((t) => {
    if (!/^\d+$/.test(t)) fail(`atom count ${quoteInput(t)} is not a non-negative integer`, countLine.lineNo);
    return Number(t);
  });
  const natoms = counts.reduce((a, b) => a + b, 0);
  if (natoms === 0) fail('no atoms (all counts are zero)', countLine.lineNo);
  // Two full atoms on one position are an error, so every atom is a site of its own.
  const maxSites = options.maxSites ?? Infinity;
  if (natoms > maxSites) fail(`too many sites: ${natoms} atoms > maxSites ${maxSites}`, countLine.lineNo);

  let modeLine = next('coordinate mode (Direct or Cartesian)');
  if (/^s/i.test(modeLine.tokens[0]!)) modeLine = next('coordinate mode (Direct or Cartesian)');
  const mode = modeLine.tokens[0]![0]!.toLowerCase();
  const cartesian = mode === 'c' || mode === 'k';
  if (!cartesian && mode !== 'd') fail(`expected "Direct" or "Cartesian", found ${quoteInput(modeLine.tokens[0]!)}`, modeLine.lineNo);

  const inverse = cartesian ? invertOrFail(lattice, modeLine.lineNo) : undefined;
  const sites: Site[] = [];
  symbols.forEach((element, s) => {
    for (let n = 0; n < counts[s]!; n++) {
      const l = next(`coordinates of atom ${sites.length + 1} (${element})`);
      const xyz = numbers(l.tokens, 3, l.lineNo, `coordinates of atom ${sites.length + 1}`) as Vec3;
      const frac = inverse
        ? cartToFrac([xyz[0] * axisScale[0], xyz[1] * axisScale[1], xyz[2] * axisScale[2]], inverse)
        : xyz;
      sites.push({ species: [{ element, occupancy: 1 }], frac, label: `${element}${n + 1}` });
    }
  });
  return { lattice, sites };
}

function invertOrFail(lattice: Mat3, lineNo: number): Mat3 {
  try {
    return invertMat3(lattice);
  } catch {
    return fail('singular lattice: cannot convert Cartesian coordinates', lineNo);
  }
}
