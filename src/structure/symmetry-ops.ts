/**
 * Symmetry operations: parsing CIF "x+1/2,-y,z" strings, and the operations of a space group
 * given only by number or Hermann–Mauguin symbol (from @spglib/moyo-wasm, loaded lazily).
 *
 * An operation maps fractional coordinates f to R·f + t (R integer-valued, t in cell units).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as moyo from '@spglib/moyo-wasm';
import { BadInputError, quoteInput } from '../errors.js';
import type { Mat3, Structure, Vec3 } from './structure.js';

export interface SymmetryOperation {
  /** rotation[i][j]: coefficient of input coordinate j in output coordinate i. */
  rotation: Mat3;
  translation: Vec3;
}

/** The most operations a space group has in a conventional cell (48 point operations × 4 centring translations, e.g. Fm-3m). */
export const MAX_SYMMETRY_OPERATIONS = 192;

export const IDENTITY_OPERATION: SymmetryOperation = Object.freeze({
  rotation: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as Mat3,
  translation: [0, 0, 0] as Vec3,
});

export function applyOperation(op: SymmetryOperation, f: Vec3): Vec3 {
  const R = op.rotation;
  const t = op.translation;
  return [
    R[0][0] * f[0] + R[0][1] * f[1] + R[0][2] * f[2] + t[0],
    R[1][0] * f[0] + R[1][1] * f[1] + R[1][2] * f[2] + t[1],
    R[2][0] * f[0] + R[2][1] * f[1] + R[2][2] * f[2] + t[2],
  ];
}

const AXIS: Record<string, number> = { x: 0, y: 1, z: 2 };

/** "1/2" → 0.5, "0.25" → 0.25, "" → 1. NaN when malformed. */
function parseNumberOrFraction(s: string): number {
  if (s === '') return 1;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const num = Number(s.slice(0, slash));
    const den = Number(s.slice(slash + 1));
    return slash > 0 && slash < s.length - 1 && den !== 0 ? num / den : NaN;
  }
  // `\d+(\.\d*)?` rather than `\d+\.?\d*`: linear, not quadratic, on a long digit run plus junk.
  return /^(\d+(?:\.\d*)?|\.\d+)$/.test(s) ? Number(s) : NaN;
}

/**
 * Parses one operation such as "x+1/2, -y, z", "-x+y,1/2+x,z", "x-y,-y,-z+0.5" or "2x, y, z".
 * Throws BadInputError with the offending text.
 */
export function parseSymmetryOperation(text: string): SymmetryOperation {
  const parts = text.toLowerCase().replace(/\s+/g, '').split(',');
  const fail = (why: string): never => {
    throw new BadInputError(`cannot parse symmetry operation ${quoteInput(text)}: ${why}`);
  };
  if (parts.length !== 3) fail('expected three comma-separated components');
  const rotation: Mat3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const translation: Vec3 = [0, 0, 0];
  parts.forEach((part, row) => {
    if (part === '') fail(`component ${row + 1} is empty`);
    // Terms start at each + or - sign: "-x+y+1/2" → ["-x", "+y", "+1/2"].
    const terms = part.match(/[+-]?[^+-]+/g);
    if (!terms || terms.join('') !== part) fail(`malformed component ${quoteInput(part)}`);
    for (const term of terms!) {
      const sign = term.startsWith('-') ? -1 : 1;
      const body = term.replace(/^[+-]/, '');
      const m = /^([\d./]*)\*?([xyz])$/.exec(body) ?? /^([xyz])\*?([\d./]+)$/.exec(body);
      if (m) {
        const isVarFirst = m[1] === 'x' || m[1] === 'y' || m[1] === 'z';
        const axis = AXIS[isVarFirst ? m[1]! : m[2]!]!;
        const coef = parseNumberOrFraction(isVarFirst ? m[2]! : m[1]!);
        if (Number.isNaN(coef)) fail(`bad coefficient in ${quoteInput(term)}`);
        rotation[row]![axis]! += sign * coef;
      } else {
        const value = parseNumberOrFraction(body);
        if (Number.isNaN(value) || body === '') fail(`bad term ${quoteInput(term)}`);
        translation[row] += sign * value;
      }
    }
  });
  return { rotation, translation };
}

// ---- space-group operations from moyo --------------------------------------------------------

let moyoReady = false;

function ensureMoyo(): void {
  if (moyoReady) return;
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve('@spglib/moyo-wasm/moyo_wasm_bg.wasm');
  moyo.initSync({ module: readFileSync(wasmPath) });
  moyoReady = true;
}

function fromMoyo(ops: moyo.MoyoOperation[]): SymmetryOperation[] {
  return ops.map(({ rotation: r, translation: t }) => ({
    rotation: [
      [r[0], r[1], r[2]],
      [r[3], r[4], r[5]],
      [r[6], r[7], r[8]],
    ] as Mat3,
    translation: [t[0], t[1], t[2]] as Vec3,
  }));
}

/**
 * All operations (centring translations included) of space group `number` (1..230) in the ITA
 * standard setting: unique axis b, hexagonal axes for R groups, origin choice 2.
 */
export function operationsFromSpaceGroupNumber(number: number): SymmetryOperation[] {
  if (!Number.isInteger(number) || number < 1 || number > 230) {
    throw new BadInputError(`space group number ${number} is outside 1..230`);
  }
  ensureMoyo();
  return fromMoyo(moyo.operations_from_number(number, { type: 'Standard' }, false));
}

interface HallEntry {
  hallNumber: number;
  number: number;
  setting: string;
}

let symbolIndex: Map<string, HallEntry[]> | undefined;

/** "P 21/c" → "P21/C"; "F d -3 m:2" → "FD-3M" (the setting suffix is handled separately). */
function normaliseHmSymbol(symbol: string): string {
  return symbol.replace(/[\s_]/g, '').toUpperCase();
}

function hmIndex(): Map<string, HallEntry[]> {
  if (symbolIndex) return symbolIndex;
  ensureMoyo();
  const index = new Map<string, HallEntry[]>();
  for (let n = 1; n <= 230; n++) {
    for (const e of moyo.hall_symbol_entries_from_number(n)) {
      const entry = { hallNumber: e.hall_number, number: e.number, setting: e.setting };
      for (const key of new Set([normaliseHmSymbol(e.hm_short), normaliseHmSymbol(e.hm_full)])) {
        const list = index.get(key) ?? [];
        if (!list.some((x) => x.hallNumber === entry.hallNumber)) list.push(entry);
        index.set(key, list);
      }
    }
  }
  symbolIndex = index;
  return index;
}

/**
 * Operations for a Hermann–Mauguin symbol ("P 21/c", "Fm-3m", "R -3 m:H", "P 1 21/n 1").
 * When several settings share the symbol (origin choices, R axes) and no ":1"/":2"/":H"/":R"
 * suffix picks one, the ITA standard setting of that space-group number is used.
 * Returns undefined for an unknown symbol.
 */
export function operationsFromHmSymbol(symbol: string): SymmetryOperation[] | undefined {
  const [base, suffix] = symbol.trim().split(':');
  const entries = hmIndex().get(normaliseHmSymbol(base ?? ''));
  if (!entries || entries.length === 0) return undefined;
  const wanted = suffix?.trim().toUpperCase();
  let chosen: HallEntry | undefined;
  if (wanted) chosen = entries.find((e) => e.setting.toUpperCase() === wanted);
  if (!chosen) {
    const numbers = new Set(entries.map((e) => e.number));
    if (entries.length > 1 && numbers.size === 1) return operationsFromSpaceGroupNumber(entries[0]!.number);
    chosen = entries[0]!;
  }
  return fromMoyo(moyo.operations_from_number(chosen.number, { type: 'HallNumber', value: chosen.hallNumber }, false));
}

// ---- space group of a structure ---------------------------------------------------------------

/** Distance tolerance of the space-group search, in Å (what Materials Project and the seeded pool's manifest use). */
export const SPACE_GROUP_SYMPREC = 0.1;

export interface SpaceGroup {
  /** International number, 1..230. */
  number: number;
  /** Short Hermann–Mauguin symbol, e.g. "Fm-3m". */
  symbol: string;
}

/**
 * The space group of a structure, found by moyo (the Rust successor of spglib) with tolerance
 * `symprec` Å. Sites with the same species and occupancies count as one kind, so a disordered site
 * is its own kind (as spglib does for pymatgen's disordered structures). Null when moyo finds
 * none (it throws on cells it cannot standardise).
 */
export function spaceGroupOf(structure: Structure, symprec = SPACE_GROUP_SYMPREC): SpaceGroup | null {
  ensureMoyo();
  const kinds = new Map<string, number>();
  const numbers = structure.sites.map((site) => {
    const key = [...site.species]
      .sort((a, b) => (a.element < b.element ? -1 : a.element > b.element ? 1 : 0))
      .map((sp) => `${sp.element}:${sp.occupancy.toFixed(4)}`)
      .join(',');
    let kind = kinds.get(key);
    if (kind === undefined) kinds.set(key, (kind = kinds.size + 1));
    return kind;
  });
  const cell = {
    lattice: { basis: structure.lattice.flat() },
    positions: structure.sites.map((site) => [...site.frac]),
    numbers,
  };
  try {
    const dataset = moyo.analyze_cell(JSON.stringify(cell), symprec, 'Standard');
    return { number: dataset.number, symbol: moyo.space_group_type(dataset.number).hm_short.replace(/ /g, '') };
  } catch {
    return null;
  }
}
