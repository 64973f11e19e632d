/**
 * fast-check generators for the fuzz tests: mutations of real inputs (described as plain data, so a
 * counterexample prints as something a person can read and replay) and random text.
 *
 * Positions are fractions in [0, 1) of the text, its lines or its matches, so one mutation applies
 * to any seed and shrinks towards the start.
 */
import fc from 'fast-check';
import type { StructureFormat } from '../../src/structure/index.js';
import type { Sample } from './corpus.js';

/** Replacements for a number: out of range, not finite, placeholders, malformed, pathological. */
export const ODD_NUMBERS: readonly string[] = [
  '0', '-0', '-1', '-5.2', '1e308', '-1e308', '1e-308', '5e-324', '1e999', '-1e999', 'NaN', 'Infinity',
  '-Infinity', '?', '.', '1e9', '1e-9', '-1e9', '1.0000001', '2', '1.05', '1.0500001', '999999999999999999999999',
  '0x1F', '1_000', '1/2', '1e', '.e5', '+.5', '--1', '1.2.3', '1(', '1(2)(3)', "'1.0'", '"0.5"', '1,5', '١٢', '½',
  `${'1'.repeat(30000)}x`, `${'9'.repeat(400)}`, `0.${'3'.repeat(5000)}`, `1e${'9'.repeat(50)}`,
];

/** Replacements for an element symbol. */
export const ODD_ELEMENTS: readonly string[] = [
  'Xx', 'Q', 'D', 'T', 'li', 'LI', 'Uuo', 'X1', '?', '.', 'vacancy', 'Li+', 'O2-', '__proto__', 'constructor', 'Og', 'Nh',
  'Ⅼi', 'Li\u0301', 'L\u200bi', '', "'", ';', 'Q'.repeat(20000),
];

/** Odd text: control and format characters, NUL, lone surrogates, BOM, RTL marks, emoji. */
export const ODD_STRINGS: readonly string[] = [
  '\u0000', '\u0001\u0002\u0003', '\u007f', '\ufffd', '\ud800', '\udc00x', '\ufeff', '\u202e', '\u2028', '\u00a0',
  '😀', '\r', '\r\n', '\t', '\v\f', ';', "'", '"', '#', 'loop_', 'data_', '_', '{', '}', '[', ']', ',', ':', '\\',
  '\\u0000', '"\\ud800"', 'x'.repeat(70000),
];

const CELL_TAGS = ['a', 'b', 'c', 'alpha', 'beta', 'gamma', 'scale'] as const;
const CELL_VALUES = ['0', '-0', '-5', '1e9', '1e-9', '-1e-9', '1e300', '1e-300', '180', '179.9999', '360', '-90', '0.001', '?', 'NaN'];

export type JsonReplacement =
  | { kind: 'value'; value: unknown }
  | { kind: 'raw'; text: string }
  | { kind: 'deep'; depth: number; object: boolean }
  | { kind: 'bigArray'; length: number };

export type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'deleteLines'; at: number; count: number }
  | { op: 'duplicateLine'; at: number; times: number }
  | { op: 'swapLines'; a: number; b: number }
  | { op: 'replaceChars'; at: number; chars: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replaceNumber'; which: number; value: string; wholeLine: boolean }
  | { op: 'replaceElement'; which: number; symbol: string }
  | { op: 'newlines'; style: '\r\n' | '\r' | '\n\n' | '\n\r' }
  | { op: 'loopWithoutValues'; at: number; tags: string[] }
  | { op: 'cell'; which: (typeof CELL_TAGS)[number]; value: string }
  | { op: 'skew'; factor: number }
  | { op: 'symmetryFlood'; count: number; distinct: boolean }
  | { op: 'siteFlood'; count: number; step: number }
  | { op: 'occupancy'; which: number; value: string; all: boolean }
  | { op: 'json'; which: number; replacement: JsonReplacement }
  | { op: 'jsonDuplicateKey'; key: string; value: string };

/** A uniform fraction in [0, 1): unbiased, or most positions would be the very start of the text. */
const position = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);

const oddText = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

const jsonReplacement: fc.Arbitrary<JsonReplacement> = fc.oneof(
  fc.constantFrom<JsonReplacement>(
    { kind: 'value', value: null },
    { kind: 'value', value: true },
    { kind: 'value', value: '' },
    { kind: 'value', value: 'Li' },
    { kind: 'value', value: 'Xx' },
    { kind: 'value', value: {} },
    { kind: 'value', value: [] },
    { kind: 'value', value: [1, 2] },
    { kind: 'value', value: [0, 0, 0, 0] },
    { kind: 'value', value: [[0, 0, 0]] },
    { kind: 'value', value: -1 },
    { kind: 'value', value: 0 },
    { kind: 'value', value: 2 },
    { kind: 'value', value: 1e308 },
    { kind: 'value', value: -1e308 },
    { kind: 'value', value: 5e-324 },
    { kind: 'value', value: { Li: 1.5 } },
    { kind: 'value', value: { Li: 0.6, Na: 0.6 } },
    { kind: 'value', value: [{ element: 'Li', occu: 2 }] },
    { kind: 'value', value: { matrix: [[1e9, 0, 0], [0, 1e-9, 0], [0, 0, 1]] } },
    { kind: 'value', value: 'x'.repeat(100000) },
    { kind: 'raw', text: '1e999' },
    { kind: 'raw', text: '-1e999' },
    { kind: 'raw', text: '{"__proto__": {"Li": 1}, "constructor": 1}' },
    { kind: 'raw', text: '"\\u0000"' },
    { kind: 'raw', text: '"\\ud800"' },
  ),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 2, max: 200000 }), object: fc.boolean() }),
  fc.record({ kind: fc.constant('bigArray' as const), length: fc.integer({ min: 4, max: 200000 }) }),
  fc.jsonValue({ maxDepth: 3 }).map((value): JsonReplacement => ({ kind: 'value', value })),
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteLines' as const), at: position, count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicateLine' as const), at: position, times: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('swapLines' as const), a: position, b: position }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('replaceChars' as const), at: position, chars: oddText }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, text: oddText }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('replaceNumber' as const),
      which: position,
      value: fc.oneof(fc.constantFrom(...ODD_NUMBERS), fc.double().map(String)),
      wholeLine: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replaceElement' as const), which: position, symbol: fc.constantFrom(...ODD_ELEMENTS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('newlines' as const), style: fc.constantFrom('\r\n' as const, '\r' as const, '\n\n' as const, '\n\r' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('loopWithoutValues' as const),
      at: position,
      tags: fc.subarray(['_atom_site_label', '_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z', '_atom_site_occupancy', '_symmetry_equiv_pos_as_xyz'], { minLength: 1 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cell' as const), which: fc.constantFrom(...CELL_TAGS), value: fc.constantFrom(...CELL_VALUES) }) },
  // b += factor·a: the same lattice in a very skewed basis (CIF cells get there with angles near 0° or 180°).
  { weight: 1, arbitrary: fc.record({ op: fc.constant('skew' as const), factor: fc.constantFrom(10, 1e3, 1e6, 1e9, -1e6) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('symmetryFlood' as const), count: fc.integer({ min: 2, max: 30000 }), distinct: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('siteFlood' as const),
      count: fc.integer({ min: 1, max: 60000 }),
      step: fc.constantFrom(0, 1e-6, 3e-5, 1e-4, 2e-4, 1 / 9973, 0.37),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('occupancy' as const),
      which: position,
      value: fc.constantFrom('1.2', '2', '1e9', '1.05', '1.0500001', '1e-300', '5e-324', '0', '-0.5', '?', '1e999'),
      all: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('json' as const), which: position, replacement: jsonReplacement }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('jsonDuplicateKey' as const),
      key: fc.constantFrom('lattice', 'sites', 'lattice_vectors', 'species', 'species_at_sites', 'cartesian_site_positions', 'attributes', 'data', '__proto__'),
      value: fc.constantFrom('null', '[]', '{}', '"x"', '[[1,0,0],[0,1,0],[0,0,1]]'),
    }),
  },
);

/** Longest mutated text kept: above the 5 MiB maxTextBytes, so the size limit is still reached. */
const MAX_MUTATED_CHARS = 6 * 1024 * 1024;

export interface MutatedInput {
  /** Index into the corpus (sorted by length). */
  sample: number;
  /** Parse with this format instead of the sample's own (a mislabelled upload). */
  wrongFormat: StructureFormat | null;
  mutations: Mutation[];
}

export function mutatedInputArb(corpusSize: number): fc.Arbitrary<MutatedInput> {
  return fc.record({
    sample: fc.integer({ min: 0, max: corpusSize - 1 }),
    wrongFormat: fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom<StructureFormat>('CIF', 'POSCAR', 'JSON') },
    ),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  });
}

/** The text and format of a mutated input. */
export function applyMutations(sample: Sample, input: MutatedInput): { format: StructureFormat; text: string } {
  let text = sample.text;
  // Past MAX_MUTATED_CHARS only the size limit is exercised; cutting keeps mutations from growing without end.
  for (const m of input.mutations) text = applyMutation(text, sample.format, m).slice(0, MAX_MUTATED_CHARS);
  return { format: input.wrongFormat ?? sample.format, text };
}

// ---- applying one mutation -------------------------------------------------------------------

const pick = (fraction: number, n: number) => Math.min(n - 1, Math.floor(fraction * n));

function splitLines(text: string): string[] {
  return text.split('\n');
}

/** Numbers as they appear in all three formats (with a CIF standard uncertainty). */
const NUMBER = /[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?:\(\d+\))?/g;
/** An element-like token: after whitespace or a quote, before whitespace, a quote, a digit or a charge. */
const ELEMENT = /(?<=[\s"'])[A-Z][a-z]?(?=[\s"'\d+-])/g;
/** At most this many matches are considered (seeds are small; this bounds work on a mutated flood). */
const MAX_MATCHES = 5000;

function matches(text: string, re: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m && out.length < MAX_MATCHES; m = re.exec(text)) {
    if (m[0] === '') re.lastIndex++;
    else out.push(m);
  }
  return out;
}

function replaceAt(text: string, index: number, length: number, by: string): string {
  return text.slice(0, index) + by + text.slice(index + length);
}

/** A CIF loop whose header holds `tag`: line numbers of its header and rows, and its tags. */
function cifLoopWith(lines: string[], tag: string): { tags: string[]; firstRow: number; endRow: number } | undefined {
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim().toLowerCase() !== 'loop_') continue;
    const tags: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim().startsWith('_')) tags.push(lines[j++]!.trim().toLowerCase());
    if (!tags.includes(tag)) continue;
    let end = j;
    while (end < lines.length && lines[end]!.trim() !== '' && !/^(loop_|_|data_|#)/i.test(lines[end]!.trim())) end++;
    return { tags, firstRow: j, endRow: end };
  }
  return undefined;
}

/** JSON value paths (arrays of keys), breadth-first, at most MAX_MATCHES. */
function jsonPaths(doc: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { value: unknown; path: (string | number)[] }[] = [{ value: doc, path: [] }];
  while (queue.length > 0 && out.length < MAX_MATCHES) {
    const { value, path } = queue.shift()!;
    out.push(path);
    if (Array.isArray(value)) value.forEach((v, i) => queue.push({ value: v, path: [...path, i] }));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) queue.push({ value: v, path: [...path, k] });
  }
  return out;
}

const PLACEHOLDER = '"@@fuzz-placeholder@@"';

function replacementText(r: JsonReplacement): string {
  switch (r.kind) {
    case 'value':
      return JSON.stringify(r.value) ?? 'null';
    case 'raw':
      return r.text;
    case 'deep':
      return r.object ? `${'{"a":'.repeat(r.depth)}1${'}'.repeat(r.depth)}` : `${'['.repeat(r.depth)}${']'.repeat(r.depth)}`;
    case 'bigArray':
      return `[${Array.from({ length: r.length }, (_, i) => (i % 3 === 0 ? '[0,0,0]' : '0')).join(',')}]`;
  }
}

function withJson(text: string, fn: (doc: any) => unknown): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text; // an earlier mutation broke the JSON: nothing structural left to change
  }
  try {
    return JSON.stringify(fn(doc) ?? doc);
  } catch {
    return text; // e.g. a document nested too deeply for JSON.stringify (an earlier mutation made it)
  }
}

function setPath(doc: any, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let node = doc;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
  return doc;
}

/** The lattice rows of a JSON structure (pymatgen-like or OPTIMADE, bare or in an entry). */
function jsonStructureRoot(doc: any): any {
  let obj = doc;
  if (obj?.data && typeof obj.data === 'object') obj = obj.data;
  if (obj?.attributes && typeof obj.attributes === 'object') obj = obj.attributes;
  return obj;
}

function applyMutation(text: string, format: StructureFormat, m: Mutation): string {
  switch (m.op) {
    case 'truncate':
      return text.slice(0, Math.floor(m.at * text.length));
    case 'deleteLines': {
      const lines = splitLines(text);
      lines.splice(pick(m.at, lines.length), m.count);
      return lines.join('\n');
    }
    case 'duplicateLine': {
      const lines = splitLines(text);
      const i = pick(m.at, lines.length);
      lines.splice(i, 0, ...Array<string>(m.times).fill(lines[i]!));
      return lines.join('\n');
    }
    case 'swapLines': {
      const lines = splitLines(text);
      const a = pick(m.a, lines.length);
      const b = pick(m.b, lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'replaceChars':
      return replaceAt(text, Math.floor(m.at * text.length), m.chars.length, m.chars);
    case 'insert':
      return replaceAt(text, Math.floor(m.at * text.length), 0, m.text);
    case 'replaceNumber': {
      const found = matches(text, NUMBER);
      if (found.length === 0) return text;
      const target = found[pick(m.which, found.length)]!;
      if (!m.wholeLine) return replaceAt(text, target.index, target[0].length, m.value);
      const start = text.lastIndexOf('\n', target.index) + 1;
      const endAt = text.indexOf('\n', target.index);
      const end = endAt < 0 ? text.length : endAt;
      let replaced = 0; // a long JSON line holds thousands of numbers: enough to change the first ones
      return text.slice(0, start) + text.slice(start, end).replace(NUMBER, (n) => (replaced++ < 50 ? m.value : n)) + text.slice(end);
    }
    case 'replaceElement': {
      const found = matches(text, ELEMENT);
      if (found.length === 0) return text;
      const target = found[pick(m.which, found.length)]!;
      return replaceAt(text, target.index, target[0].length, m.symbol);
    }
    case 'newlines':
      return text.replace(/\n/g, m.style);
    case 'loopWithoutValues': {
      const lines = splitLines(text);
      lines.splice(pick(m.at, lines.length), 0, 'loop_', ...m.tags);
      return lines.join('\n');
    }
    case 'cell':
      return mutateCell(text, format, m.which, m.value);
    case 'skew':
      return skewCell(text, format, m.factor);
    case 'symmetryFlood': {
      if (format !== 'CIF') return text;
      const ops = Array.from({ length: m.count }, (_, i) => (m.distinct ? `'x+${i}/${m.count},y,z'` : `'x,y,z'`));
      const block = ['loop_', '_symmetry_equiv_pos_as_xyz', ...ops].join('\n');
      const at = text.search(/^data_.*$/m);
      if (at < 0) return `${block}\n${text}`;
      const eol = text.indexOf('\n', at);
      return eol < 0 ? `${text}\n${block}\n` : `${text.slice(0, eol + 1)}${block}\n${text.slice(eol + 1)}`;
    }
    case 'siteFlood':
      return floodSites(text, format, m.count, m.step);
    case 'occupancy':
      return mutateOccupancy(text, format, m.which, m.value, m.all);
    case 'json': {
      if (format !== 'JSON') return text;
      let placeholderUsed = false;
      const out = withJson(text, (doc) => {
        const paths = jsonPaths(doc);
        const path = paths[pick(m.which, paths.length)]!;
        placeholderUsed = true;
        return setPath(doc, path, JSON.parse(PLACEHOLDER));
      });
      return placeholderUsed ? out.replace(PLACEHOLDER, () => replacementText(m.replacement)) : out;
    }
    case 'jsonDuplicateKey': {
      if (format !== 'JSON') return text;
      const brace = text.indexOf('{');
      return brace < 0 ? text : replaceAt(text, brace + 1, 0, `"${m.key}": ${m.value}, `);
    }
  }
}

function mutateCell(text: string, format: StructureFormat, which: (typeof CELL_TAGS)[number], value: string): string {
  if (format === 'CIF') {
    const tags = which === 'scale' ? ['a', 'b', 'c'] : [which];
    let out = text;
    for (const t of tags) {
      const tag = ['a', 'b', 'c'].includes(t) ? `_cell_length_${t}` : `_cell_angle_${t}`;
      out = out.replace(new RegExp(`^(${tag}[ \\t]+)\\S+`, 'im'), (_, head: string) => `${head}${value}`);
    }
    return out;
  }
  if (format === 'POSCAR') {
    const lines = splitLines(text);
    if (lines.length < 5) return text;
    const k = ['a', 'b', 'c'].indexOf(which);
    if (k < 0) lines[1] = ` ${value}`; // the scale factor (angles have no POSCAR line)
    else lines[2 + k] = [0, 1, 2].map((j) => (j === k ? value : '0')).join(' ');
    return lines.join('\n');
  }
  return withJson(text, (doc) => {
    const root = jsonStructureRoot(doc);
    const rows = root?.lattice_vectors ?? root?.lattice?.matrix ?? root?.lattice;
    if (!Array.isArray(rows)) return doc;
    const k = ['a', 'b', 'c'].indexOf(which);
    const x = Number(value);
    if (k < 0) {
      for (const row of rows) if (Array.isArray(row)) row.forEach((v, j) => (row[j] = typeof v === 'number' ? v * x : v));
    } else {
      rows[k] = [0, 1, 2].map((j) => (j === k ? x : 0));
    }
    return doc;
  });
}

function skewCell(text: string, format: StructureFormat, factor: number): string {
  const skew = (rows: number[][]) => {
    rows[1] = rows[1]!.map((x, j) => x + factor * rows[0]![j]!);
  };
  if (format === 'POSCAR') {
    const lines = splitLines(text);
    const rows = lines.slice(2, 5).map((l) => l.trim().split(/\s+/).map(Number));
    if (rows.length < 3 || !rows.every((r) => r.length >= 3 && r.every(Number.isFinite))) return text;
    skew(rows);
    lines[3] = rows[1]!.join(' ');
    return lines.join('\n');
  }
  if (format !== 'JSON') return text;
  return withJson(text, (doc) => {
    const root = jsonStructureRoot(doc);
    const rows = root?.lattice_vectors ?? root?.lattice?.matrix ?? root?.lattice;
    if (Array.isArray(rows) && rows.length === 3 && rows.every((r: unknown) => Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'number'))) {
      skew(rows);
    }
    return doc;
  });
}

function floodSites(text: string, format: StructureFormat, count: number, step: number): string {
  const fmt = (x: number) => x.toFixed(8);
  if (format === 'CIF') {
    const lines = splitLines(text);
    const loop = cifLoopWith(lines, '_atom_site_fract_x');
    if (!loop || loop.firstRow >= loop.endRow) return text;
    const row = lines[loop.firstRow]!.trim().split(/\s+/);
    const xCol = loop.tags.indexOf('_atom_site_fract_x');
    if (row.length !== loop.tags.length) return text; // a row spread over lines: leave it
    const x0 = Number.parseFloat(row[xCol]!) || 0;
    const rows = Array.from({ length: Math.min(count, Math.floor(MAX_MUTATED_CHARS / (lines[loop.firstRow]!.length + 1))) }, (_, i) => {
      const copy = [...row];
      copy[xCol] = fmt(x0 + (i + 1) * step);
      return copy.join(' ');
    });
    lines.splice(loop.firstRow, 0, ...rows);
    return lines.join('\n');
  }
  if (format === 'POSCAR') {
    const lines = splitLines(text);
    if (lines.length < 9) return text;
    const counts = lines[6]!.trim().split(/\s+/);
    const first = /^s/i.test(lines[7]!.trim()) ? 9 : 8;
    const coords = lines[first]?.trim().split(/\s+/);
    if (!coords || coords.length < 3 || !/^\d+$/.test(counts[0] ?? '')) return text;
    const n = Math.min(count, Math.floor(MAX_MUTATED_CHARS / (lines[first]!.length + 1)));
    counts[0] = String(Number(counts[0]) + n);
    lines[6] = counts.join(' ');
    const x0 = Number.parseFloat(coords[0]!) || 0;
    const rows = Array.from({ length: n }, (_, i) =>
      [fmt(x0 + (i + 1) * step), ...coords.slice(1)].join(' '),
    );
    lines.splice(first, 0, ...rows);
    return lines.join('\n');
  }
  return withJson(text, (doc) => {
    const root = jsonStructureRoot(doc);
    if (Array.isArray(root?.sites) && root.sites.length > 0) {
      const site = root.sites[0];
      const key = 'frac' in site ? 'frac' : 'abc';
      for (let i = 0; i < count; i++) {
        const f = site[key];
        root.sites.push({ ...site, [key]: Array.isArray(f) ? [Number(f[0]) + (i + 1) * step, f[1], f[2]] : f });
      }
    } else if (Array.isArray(root?.cartesian_site_positions) && Array.isArray(root?.species_at_sites) && root.species_at_sites.length > 0) {
      const p = root.cartesian_site_positions[0];
      const a = Array.isArray(root.lattice_vectors?.[0]) ? root.lattice_vectors[0] : [1, 0, 0];
      for (let i = 0; i < count; i++) {
        const s = (i + 1) * step;
        root.cartesian_site_positions.push(Array.isArray(p) ? p.map((v: number, k: number) => v + s * Number(a[k])) : p);
        root.species_at_sites.push(root.species_at_sites[0]);
      }
    }
    return doc;
  });
}

function mutateOccupancy(text: string, format: StructureFormat, which: number, value: string, all: boolean): string {
  if (format === 'CIF') {
    const lines = splitLines(text);
    const loop = cifLoopWith(lines, '_atom_site_fract_x');
    if (!loop || loop.firstRow >= loop.endRow) return text;
    let col = loop.tags.indexOf('_atom_site_occupancy');
    if (col < 0) {
      // Add the column: every row gets "1", then the chosen ones `value`.
      lines.splice(loop.firstRow, 0, '_atom_site_occupancy');
      loop.tags.push('_atom_site_occupancy');
      loop.firstRow++;
      loop.endRow++;
      for (let i = loop.firstRow; i < loop.endRow; i++) lines[i] = `${lines[i]} 1`;
      col = loop.tags.length - 1;
    }
    const target = loop.firstRow + pick(which, loop.endRow - loop.firstRow);
    for (let i = loop.firstRow; i < loop.endRow; i++) {
      if (!all && i !== target) continue;
      const row = lines[i]!.trim().split(/\s+/);
      if (row.length !== loop.tags.length) continue;
      row[col] = value;
      lines[i] = row.join(' ');
    }
    return lines.join('\n');
  }
  if (format !== 'JSON') return text;
  const x = Number(value);
  return withJson(text, (doc) => {
    const root = jsonStructureRoot(doc);
    const lists: any[] = Array.isArray(root?.sites) ? root.sites.map((s: any) => s?.species) : Array.isArray(root?.species) ? root.species.map((s: any) => s?.concentration) : [];
    if (lists.length === 0) return doc;
    const target = pick(which, lists.length);
    lists.forEach((list, i) => {
      if (!all && i !== target) return;
      if (Array.isArray(list)) list.forEach((sp, j) => (sp && typeof sp === 'object' ? (sp.occu = x) : (list[j] = x)));
      else if (list && typeof list === 'object') for (const k of Object.keys(list)) list[k] = x;
    });
    return doc;
  });
}

// ---- random text -----------------------------------------------------------------------------

const numberText = fc.oneof(
  fc.double().map(String),
  fc.integer({ min: -300, max: 300 }).map(String),
  fc.double({ min: -2, max: 2, noNaN: true }).map((x) => x.toFixed(5)),
  fc.constantFrom(...ODD_NUMBERS.filter((s) => s.length < 100)),
);

const CIF_WORDS = [
  'data_x', 'data_', 'loop_', 'save_a', 'save_', 'global_', 'stop_', '_cell_length_a', '_cell_length_b', '_cell_length_c',
  '_cell_angle_alpha', '_cell_angle_beta', '_cell_angle_gamma', '_atom_site_label', '_atom_site_type_symbol',
  '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z', '_atom_site_occupancy', '_symmetry_equiv_pos_as_xyz',
  '_space_group_symop_operation_xyz', '_space_group_symop.operation_xyz', '_symmetry_space_group_name_H-M',
  '_space_group_name_H-M_alt', '_symmetry_Int_Tables_number', '_space_group_IT_number', "'x,y,z'", "'-x,-y,-z'",
  "'x+1/2,y+1/2,z'", "'-y,x-y,z+1/3'", "'x,y'", "'2x,y,z+0.5'", "'x*1/2,y,z'", "'P 1'", "'F m -3 m'", "'R -3 m:H'",
  "'P 21/c'", "'Fd-3m:2'", "'Q 42'", 'Li', 'La', 'O', 'Zr', 'Xx', 'Li1', 'O2-', 'Li+', '?', '.', ';', '#', "'", '"', 'x',
];

const cifToken = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CIF_WORDS) }, { weight: 2, arbitrary: numberText }, { weight: 1, arbitrary: oddText });
const separator = fc.constantFrom(' ', ' ', '  ', '\n', '\n', '\t', '\r\n', '\n;', '\n;\n');

const tokenSoup = fc.array(fc.tuple(cifToken, separator), { maxLength: 80 }).map((parts) => parts.map(([t, s]) => t + s).join(''));

/** A CIF-shaped text: cell items, symmetry, and an atom-site loop, each part present or not. */
const cifLike = fc
  .record({
    cell: fc.oneof(
      fc.tuple(fc.double({ min: 2, max: 20, noNaN: true }), fc.double({ min: 60, max: 120, noNaN: true }), numberText).map(([len, angle, odd]) =>
        CIF_WORDS.slice(7, 13).map((tag, i): [string, string] => [tag, i === 5 ? odd : i < 3 ? len.toFixed(3) : angle.toFixed(2)]),
      ),
      fc.array(fc.tuple(fc.constantFrom(...CIF_WORDS.slice(7, 13)), numberText), { maxLength: 8 }),
    ),
    symbol: fc.option(fc.constantFrom("'P 1'", "'F m -3 m'", "'R -3 m:H'", "'P 21/c'", "'Q'", "'I a -3 d'", "'P 63/m m c'", "'?'")),
    number: fc.option(fc.oneof(fc.integer({ min: -5, max: 235 }).map(String), numberText)),
    ops: fc.option(fc.array(fc.constantFrom(...CIF_WORDS.filter((w) => w.startsWith("'") && w.includes(','))), { maxLength: 12 })),
    tags: fc.oneof(
      fc.constant(CIF_WORDS.slice(13, 19)),
      fc.constant(['_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z']),
      fc.subarray(CIF_WORDS.slice(13, 19)),
    ),
    rows: fc.array(
      fc.tuple(
        fc.constantFrom('Li', 'O', 'La1', 'Xx', '?', '.', "'Li'", 'O2-'),
        fc.array(fc.oneof({ weight: 3, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x.toFixed(4)) }, { weight: 1, arbitrary: numberText }), { minLength: 0, maxLength: 6 }),
      ).map(([symbol, numbers]) => [symbol, ...numbers]),
      { maxLength: 12 },
    ),
  })
  .map(({ cell, symbol, number, ops, tags, rows }) =>
    [
      'data_fuzz',
      ...cell.map(([t, v]) => `${t} ${v}`),
      symbol ? `_symmetry_space_group_name_H-M ${symbol}` : '',
      number ? `_symmetry_Int_Tables_number ${number}` : '',
      ...(ops ? ['loop_', '_symmetry_equiv_pos_as_xyz', ...ops] : []),
      ...(tags.length > 0 ? ['loop_', ...tags, ...rows.map((r) => r.join(' '))] : []),
      '',
    ].join('\n'),
  );

/** A POSCAR-shaped text with random fields. */
const poscarLike = fc
  .record({
    scale: numberText,
    lattice: fc.oneof(
      { weight: 3, arbitrary: fc.array(fc.array(fc.oneof({ weight: 4, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }).map(String) }, { weight: 1, arbitrary: numberText }), { minLength: 3, maxLength: 3 }), { minLength: 3, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(fc.array(numberText, { minLength: 0, maxLength: 4 }), { minLength: 0, maxLength: 3 }) },
    ),
    species: fc.array(fc.constantFrom('Li', 'O', 'Cl', 'Xx', 'Li_sv', 'O/1a2b', '1', 'li'), { maxLength: 3 }),
    counts: fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }).map(String), numberText), { maxLength: 3 }),
    mode: fc.constantFrom('Direct', 'Cartesian', 'Selective dynamics\nDirect', 'K', 'x', ''),
    coords: fc.array(fc.array(numberText, { maxLength: 4 }), { maxLength: 8 }),
  })
  .map((p) =>
    ['fuzz', p.scale, ...p.lattice.map((r) => r.join(' ')), p.species.join(' '), p.counts.join(' '), p.mode, ...p.coords.map((r) => r.join(' '))].join('\n'),
  );

const jsonNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 1e308, 5e-324, 2));
const vec = fc.oneof({ weight: 5, arbitrary: fc.tuple(jsonNumber, jsonNumber, jsonNumber) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const species = fc.constantFrom('Li', 'O', 'La', 'Xx', '', 'vacancy');

/** A JSON-structure-shaped document (pymatgen-like or OPTIMADE) with random values. */
const structureJsonLike = fc.oneof(
  fc.record(
    {
      lattice: fc.oneof(fc.tuple(vec, vec, vec), fc.record({ matrix: fc.tuple(vec, vec, vec) }), fc.jsonValue({ maxDepth: 2 })),
      sites: fc.array(
        fc.record(
          {
            frac: vec,
            abc: vec,
            species: fc.oneof(fc.dictionary(species, jsonNumber, { maxKeys: 3 }), fc.array(fc.record({ element: species, occu: jsonNumber }), { maxLength: 3 })),
            label: fc.oneof(fc.string(), fc.integer()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 6 },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      lattice_vectors: fc.oneof(fc.tuple(vec, vec, vec), fc.jsonValue({ maxDepth: 2 })),
      cartesian_site_positions: fc.array(vec, { maxLength: 6 }),
      species_at_sites: fc.array(species, { maxLength: 6 }),
      species: fc.array(
        fc.record({ name: species, chemical_symbols: fc.array(species, { maxLength: 3 }), concentration: fc.array(jsonNumber, { maxLength: 3 }) }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
).map((doc) => JSON.stringify(doc));

export interface RandomInput {
  format: StructureFormat;
  text: string;
}

const anyFormat = fc.constantFrom<StructureFormat>('CIF', 'POSCAR', 'JSON');
const withFormat = (format: StructureFormat, text: fc.Arbitrary<string>) => text.map((t): RandomInput => ({ format, text: t }));

/** Unstructured text in any format, and format-shaped text mostly in its own format. */
export const randomInputArb: fc.Arbitrary<RandomInput> = fc.oneof(
  fc.record({
    format: anyFormat,
    text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), tokenSoup, fc.json({ maxDepth: 4 })),
  }),
  { weight: 2, arbitrary: withFormat('CIF', cifLike) },
  { weight: 2, arbitrary: withFormat('POSCAR', poscarLike) },
  { weight: 2, arbitrary: withFormat('JSON', structureJsonLike) },
  fc.record({ format: anyFormat, text: fc.oneof(cifLike, poscarLike, structureJsonLike) }),
);

/** Composition text: valid formulas, mutated ones, and random strings. */
export const compositionArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('Li7La3Zr2O12', 'Li6.4La3Zr1.4Ta0.6O12', 'Li3PS4', 'LiCl', 'Li10GeP2S12', 'Li2O2'),
  fc.constantFrom('Li1e999O', 'Li-1O', 'Li0O', 'Xx2', 'Li(O', 'Li)O', '((Li))', `Li${'9'.repeat(400)}`, `${'(Li'.repeat(5000)}${')'.repeat(5000)}`, 'Li.O', 'LiNaN', 'LiInfinity', '', ' ', 'li', `${'Li'.repeat(100000)}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.array(fc.tuple(fc.constantFrom('Li', 'O', 'La', 'Zr', '(', ')', '[', ']', 'Xx', '·', '.', ' '), fc.oneof(fc.constant(''), numberText)), { maxLength: 12 }).map((parts) => parts.map(([a, b]) => a + b).join('')),
);
