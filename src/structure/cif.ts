/**
 * CIF 1.1 → Structure (P1 cell): cell parameters, atom sites with occupancy, symmetry expansion,
 * and merging of co-located sites. Mirrors pymatgen's CifParser (occupancy_tolerance 1.05,
 * site_tolerance 1e-4) closely enough that the OBELiX P1 references match site for site.
 * Tokenizing lives in cif-tokenizer.ts; validation (occupancy sums, volume, limits) in validate.ts.
 */
import { BadInputError, quoteInput, StructureParseError } from '../errors.js';
import { elementFromLabel, elementFromTypeSymbol } from './elements.js';
import { latticeFromParameters, sameFracPositionPbc, wrapFrac, wrapVec3 } from './lattice.js';
import { SITE_TOLERANCE_FRAC } from './merge-sites.js';
import type { Site, Structure, Vec3 } from './structure.js';
import {
  findLoop,
  parseCifNumber,
  readCifBlocks,
  type CifBlock,
  type CifValue,
} from './cif-tokenizer.js';
import {
  IDENTITY_OPERATION,
  MAX_SYMMETRY_OPERATIONS,
  applyOperation,
  operationsFromHmSymbol,
  operationsFromSpaceGroupNumber,
  parseSymmetryOperation,
  type SymmetryOperation,
} from './symmetry-ops.js';

const FORMAT = 'CIF';

export interface CifReadOptions {
  /** Abort expansion early when the raw (pre-merge) site count exceeds this. */
  maxRawSites?: number;
}

const CELL_TAGS = [
  '_cell_length_a',
  '_cell_length_b',
  '_cell_length_c',
  '_cell_angle_alpha',
  '_cell_angle_beta',
  '_cell_angle_gamma',
] as const;

const OP_TAGS = ['_symmetry_equiv_pos_as_xyz', '_space_group_symop_operation_xyz'];
const SG_NUMBER_TAGS = ['_symmetry_int_tables_number', '_space_group_it_number'];
const SG_SYMBOL_TAGS = ['_symmetry_space_group_name_h-m', '_space_group_name_h-m_alt'];

/**
 * pymatgen rounds coordinates within 1e-4 (relative) of 1/3 or 2/3 to the exact fraction, since
 * "0.3333" under a 3-fold axis would otherwise give near-duplicate positions.
 */
const FRAC_TOLERANCE_RELATIVE = 1e-4;

function snapThirds(x: number): number {
  for (const f of [1 / 3, 2 / 3]) if (Math.abs(1 - x / f) < FRAC_TOLERANCE_RELATIVE) return f;
  return x;
}

/** Columns of atom-site data as a table, whether given in a loop or as single items. */
interface AtomSiteTable {
  nrows: number;
  column(tag: string): CifValue[] | undefined;
  line: number;
}

function atomSiteTable(block: CifBlock): AtomSiteTable | undefined {
  const found = findLoop(block, '_atom_site_fract_x');
  if (found) {
    const { loop } = found;
    return {
      nrows: loop.rows.length,
      line: loop.line,
      column(tag) {
        const j = loop.tags.indexOf(tag);
        return j < 0 ? undefined : loop.rows.map((r) => r[j]!);
      },
    };
  }
  const x = block.items.get('_atom_site_fract_x');
  if (!x) return undefined;
  return {
    nrows: 1,
    line: x.line,
    column(tag) {
      const v = block.items.get(tag);
      return v ? [v] : undefined;
    },
  };
}

function readNumber(v: CifValue, what: string): number {
  if (v.value === null) throw new StructureParseError(FORMAT, `${what} is missing (? or .)`, v.line);
  const n = parseCifNumber(v.value);
  if (!Number.isFinite(n)) throw new StructureParseError(FORMAT, `${what} ${quoteInput(v.value)} is not a finite number`, v.line);
  return n;
}

/** An operation's identity: its rotation and its translation modulo lattice translations. */
function operationKey(op: SymmetryOperation): string {
  const t = op.translation.map((x) => Math.round(wrapFrac(x) * 1e6) % 1e6);
  return `${op.rotation.flat().join(',')}|${t.join(',')}`;
}

function readOperations(block: CifBlock): SymmetryOperation[] {
  for (const tag of OP_TAGS) {
    const found = findLoop(block, tag);
    const values = found ? found.loop.rows.map((r) => r[found.column]!) : block.items.has(tag) ? [block.items.get(tag)!] : [];
    if (values.length === 0) continue;
    // Repeats (also modulo a lattice translation) are dropped. Each site is compared with its images
    // under every operation, so the count must be bounded: 30,000 distinct operations took seconds.
    const distinct = new Map<string, SymmetryOperation>();
    for (const v of values) {
      if (v.value === null) throw new StructureParseError(FORMAT, 'symmetry operation is missing (? or .)', v.line);
      let op: SymmetryOperation;
      try {
        op = parseSymmetryOperation(v.value);
      } catch (err) {
        throw new StructureParseError(FORMAT, (err as Error).message, v.line);
      }
      const key = operationKey(op);
      if (distinct.has(key)) continue;
      distinct.set(key, op);
      if (distinct.size > MAX_SYMMETRY_OPERATIONS) {
        throw new StructureParseError(
          FORMAT,
          `more than ${MAX_SYMMETRY_OPERATIONS} distinct symmetry operations (the most any space group has)`,
          v.line,
        );
      }
    }
    return [...distinct.values()];
  }
  // Like pymatgen: a Hermann–Mauguin symbol first (it can name a non-standard setting), then the
  // space-group number (ITA standard setting).
  let unknownSymbol: CifValue | undefined;
  for (const tag of SG_SYMBOL_TAGS) {
    const v = block.items.get(tag);
    if (!v || v.value === null) continue;
    let ops: SymmetryOperation[] | undefined;
    try {
      ops = operationsFromHmSymbol(v.value);
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
    }
    if (ops) return ops;
    unknownSymbol ??= v;
  }
  for (const tag of SG_NUMBER_TAGS) {
    const v = block.items.get(tag);
    if (!v || v.value === null) continue;
    const n = parseCifNumber(v.value);
    if (!Number.isInteger(n) || n < 1 || n > 230) {
      throw new StructureParseError(FORMAT, `space group number ${quoteInput(v.value)} is not an integer in 1..230`, v.line);
    }
    return operationsFromSpaceGroupNumber(n);
  }
  if (unknownSymbol) {
    throw new StructureParseError(
      FORMAT,
      `unknown space group symbol ${quoteInput(unknownSymbol.value!)} and no symmetry operations or space group number`,
      unknownSymbol.line,
    );
  }
  // No symmetry information at all: the cell is taken as P1, as pymatgen does.
  return [IDENTITY_OPERATION];
}

/** Distinct images of one position under all operations, wrapped into [0, 1). */
function orbit(frac: Vec3, ops: readonly SymmetryOperation[]): Vec3[] {
  const out: Vec3[] = [];
  for (const op of ops) {
    const p = wrapVec3(applyOperation(op, frac));
    if (!out.some((q) => sameFracPositionPbc(p, q, SITE_TOLERANCE_FRAC))) out.push(p);
  }
  return out;
}

/**
 * The data blocks of a CIF that hold a structure (fractional atom sites), each as its own CIF text
 * (the lines from its `data_` line to the next block's), with its name. For importers that store
 * every structure of a multi-block file.
 */
export function cifStructureBlocks(text: string): { name: string; text: string }[] {
  const blocks = readCifBlocks(text);
  const lines = text.split(/\r?\n/);
  return blocks.flatMap((block, i) => {
    if (!atomSiteTable(block)) return [];
    const end = i + 1 < blocks.length ? blocks[i + 1]!.line - 1 : lines.length;
    return [{ name: block.name, text: lines.slice(block.line - 1, end).join('\n') }];
  });
}

/**
 * Reads the data block that has fractional atom sites and expands it to P1. A file with several
 * such blocks is refused (never read as its first block): one structure per input.
 * Co-located sites are NOT merged here (validate.ts does that for every format).
 */
export function readCif(text: string, options: CifReadOptions = {}): Structure {
  const blocks = readCifBlocks(text);
  if (blocks.length === 0) throw new StructureParseError(FORMAT, 'no data_ block found');
  const withSites = blocks.filter((b) => atomSiteTable(b) !== undefined);
  if (withSites.length > 1) {
    const names = withSites.slice(0, 3).map((b) => quoteInput(`data_${b.name}`, 30)).join(', ');
    throw new StructureParseError(
      FORMAT,
      `${withSites.length} data blocks hold structures (${names}${withSites.length > 3 ? ', …' : ''}): give one block per input ` +
        '(`ionsieve import` stores each block as its own material)',
      withSites[1]!.line,
    );
  }
  const block: CifBlock | undefined = withSites[0];
  const table: AtomSiteTable | undefined = block ? atomSiteTable(block) : undefined;
  if (!block || !table) {
    const b = blocks[0]!;
    throw new StructureParseError(
      FORMAT,
      'missing coordinates: no data block has fractional atom sites (_atom_site_fract_x/y/z)',
      b.line,
    );
  }

  const cellValues = CELL_TAGS.map((tag) => {
    const v = block!.items.get(tag);
    if (!v) throw new StructureParseError(FORMAT, `missing cell parameter ${tag}`, block!.line);
    const x = readNumber(v, tag);
    // A negative length would mirror the cell; angles outside (0°, 180°) give NaN or a folded cell.
    const [lo, hi, unit] = tag.startsWith('_cell_length') ? [0, Infinity, 'Å'] : [0, 180, '°'];
    if (!(x > lo && x < hi)) {
      throw new StructureParseError(FORMAT, `${tag} ${x} ${unit} is outside (${lo}, ${hi === Infinity ? '∞' : hi})`, v.line);
    }
    return x;
  });
  const [a, b, c, alpha, beta, gamma] = cellValues as [number, number, number, number, number, number];
  const lattice = latticeFromParameters({ a, b, c, alpha, beta, gamma });

  const ops = readOperations(block);

  const xs = table.column('_atom_site_fract_x');
  const ys = table.column('_atom_site_fract_y');
  const zs = table.column('_atom_site_fract_z');
  if (!xs || !ys || !zs) {
    throw new StructureParseError(FORMAT, 'missing coordinates: need _atom_site_fract_x, _y and _z', table.line);
  }
  const types = table.column('_atom_site_type_symbol');
  const labels = table.column('_atom_site_label');
  const occupancies = table.column('_atom_site_occupancy');
  if (!types && !labels) {
    throw new StructureParseError(FORMAT, 'atom sites need _atom_site_type_symbol or _atom_site_label', table.line);
  }

  const maxRaw = options.maxRawSites ?? Infinity;
  const sites: Site[] = [];
  for (let i = 0; i < table.nrows; i++) {
    const xv = xs[i]!;
    const label = labels?.[i]?.value ?? undefined;
    const symbolSource = types?.[i]?.value ?? label;
    if (symbolSource === undefined || symbolSource === null) {
      throw new StructureParseError(FORMAT, 'atom site has neither type symbol nor label', xv.line);
    }
    // A type symbol must name its element (optionally with an oxidation state or a digit-led suffix);
    // only a label, which is free text, is read leniently from its leading letters.
    const typed = types?.[i]?.value;
    const element = typed !== undefined && typed !== null ? elementFromTypeSymbol(typed) : elementFromLabel(symbolSource);
    if (!element) {
      throw new StructureParseError(
        FORMAT,
        typed !== undefined && typed !== null
          ? `unknown element ${quoteInput(typed)} in _atom_site_type_symbol (an element, optionally with a charge such as O2- or a digit-led suffix such as Li1a)`
          : `unknown element ${quoteInput(symbolSource)}`,
        types?.[i]?.line ?? xv.line,
      );
    }
    const frac: Vec3 = [
      snapThirds(readNumber(xv, '_atom_site_fract_x')),
      snapThirds(readNumber(ys[i]!, '_atom_site_fract_y')),
      snapThirds(readNumber(zs[i]!, '_atom_site_fract_z')),
    ];
    const occV = occupancies?.[i];
    const occupancy = occV && occV.value !== null ? readNumber(occV, '_atom_site_occupancy') : 1;
    if (occupancy < 0) throw new StructureParseError(FORMAT, `negative occupancy ${occupancy}`, occV?.line);
    if (occupancy === 0) continue; // An empty site carries no atom (pymatgen drops it too).
    for (const p of orbit(frac, ops)) {
      const site: Site = { species: [{ element, occupancy }], frac: p };
      if (label !== undefined) site.label = label;
      sites.push(site);
    }
    if (sites.length > maxRaw) {
      throw new StructureParseError(FORMAT, `too many sites after symmetry expansion (more than ${maxRaw})`, xv.line);
    }
  }
  return { lattice, sites };
}
