/**
 * Train/test splits for evaluation. All are seeded and deterministic for a seed.
 *
 * OBELiX is dominated by doped variants of a few families (NASICON, garnet, argyrodite, LGPS,
 * perovskite) and repeats many formulas (separate measurements). A row-level split therefore
 * puts near-copies on both sides and measures interpolation. The grouped k-fold below keeps
 * every reduced formula on one side and, as far as fold balance allows, every family too.
 */
import { BadInputError } from '../errors.js';
import type { BinaryLabel } from './metrics.js';
import { createRandom, shuffled, type Random } from '../model/random.js';

export interface Fold {
  /** 0-based fold number. */
  index: number;
  /** Row indices to train on (sorted). */
  train: number[];
  /** Row indices to evaluate (sorted). */
  test: number[];
}

/** Canonical key of a composition: atomic fractions, so Li7La3Zr2O12 ≡ Li14La6Zr4O24 ≡ Li3.5La1.5ZrO6. */
export function compositionKey(amounts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(amounts).filter(([, amount]) => amount > 0);
  const total = entries.reduce((sum, [, amount]) => sum + amount, 0);
  if (entries.length === 0 || !(total > 0)) throw new BadInputError('an empty composition has no key');
  // 1e-4 in atomic fraction: well below any real doping step (≥ 0.01 per formula unit in
  // OBELiX gives ≥ ~5e-4 in fraction), well above float noise.
  return entries
    .map(([element, amount]) => [element, Math.round((amount / total) * 1e4) / 1e4] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([element, fraction]) => `${element}${fraction}`)
    .join(' ');
}

/**
 * Canonical family name: lower case, trailing plural "s" dropped, known spelling variants
 * merged (OBELiX writes both "argyrodite" and "argyrodites", "cholorides" for "chlorides", and
 * "garnet-like" for garnet relatives). Empty → null (no family known).
 */
export function normalizeFamily(family: string | null | undefined): string | null {
  const trimmed = (family ?? '').trim().toLowerCase();
  if (trimmed === '') return null;
  const aliases: Record<string, string> = { cholorides: 'chlorides', 'garnet-like': 'garnet' };
  const spelled = aliases[trimmed] ?? trimmed;
  return spelled.length > 3 && spelled.endsWith('s') ? spelled.slice(0, -1) : spelled;
}

/** Leave-one-out: n folds, fold i tests row i. */
export function leaveOneOut(n: number): Fold[] {
  const all = [...Array(n).keys()];
  return all.map((i) => ({ index: i, train: all.filter((j) => j !== i), test: [i] }));
}

export interface GroupedRow {
  /**
   * Composition keys of the row (compositionKey). Rows sharing any key land in the same fold.
   * Give the reported formula and, where a CIF came from a different composition, its formula
   * too, so a close-match CIF cannot leak its neighbour's label.
   */
  formulaKeys: readonly string[];
  /** Structural family; rows with none are grouped by formula only. */
  family?: string | null;
  label: BinaryLabel;
  /**
   * Optional second balancing key: folds are balanced per (label, key) cell, e.g. "has a
   * structure" so that each fold also gets a fair share of the rows a GNN can use.
   */
  balanceKey?: string;
}

export interface GroupedKFoldOptions {
  /**
   * A family with more rows than this is not kept whole (it is cut along formula groups and
   * will straddle folds). Default: the target fold size ⌈n / k⌉; otherwise NASICON (131 of the
   * 478 OBELiX rows) alone would make one fold far larger than the others.
   */
  maxFamilyRows?: number;
}

export interface GroupedKFoldResult {
  folds: Fold[];
  /** Test-fold number of each row. */
  foldOfRow: number[];
  /** Connected group (formula ∪ family) of each row; groups never straddle folds. */
  groupOfRow: number[];
  nGroups: number;
  /** Normalised families whose rows sit in more than one test fold (sorted). */
  straddlingFamilies: string[];
  /** Families cut because they exceeded maxFamilyRows (sorted). */
  oversizedFamilies: string[];
}

/**
 * Grouped k-fold. Groups = connected components of "shares a composition key" plus "shares a
 * family" (families above maxFamilyRows excepted). Groups go, largest first (ties in seeded
 * random order), to the fold whose counts per (label, balanceKey) cell stay closest to an even
 * share, so folds are balanced in size, in FAST/POOR ratio and in balanceKey.
 */
export function groupedKFold(rows: readonly GroupedRow[], k: number, seed: number, options: GroupedKFoldOptions = {}): GroupedKFoldResult {
  const n = rows.length;
  if (!Number.isInteger(k) || k < 2) throw new BadInputError(`k-fold needs k ≥ 2, got ${k}`);
  if (n < k) throw new BadInputError(`cannot make ${k} folds from ${n} rows`);
  const maxFamilyRows = options.maxFamilyRows ?? Math.ceil(n / k);

  const families = rows.map((r) => normalizeFamily(r.family));
  const familySize = new Map<string, number>();
  for (const f of families) if (f !== null) familySize.set(f, (familySize.get(f) ?? 0) + 1);
  const oversizedFamilies = [...familySize].filter(([, size]) => size > maxFamilyRows).map(([f]) => f).sort();

  const unionFind = new UnionFind(n);
  const firstRowWith = new Map<string, number>();
  const link = (key: string, row: number) => {
    const first = firstRowWith.get(key);
    if (first === undefined) firstRowWith.set(key, row);
    else unionFind.union(first, row);
  };
  rows.forEach((row, i) => {
    if (row.formulaKeys.length === 0) throw new BadInputError(`row ${i} has no formula key`);
    for (const key of row.formulaKeys) link(`formula:${key}`, i);
    const family = families[i];
    if (family !== null && !oversizedFamilies.includes(family!)) link(`family:${family}`, i);
  });

  const rootIds = new Map<number, number>();
  const groupOfRow = rows.map((_, i) => {
    const root = unionFind.find(i);
    if (!rootIds.has(root)) rootIds.set(root, rootIds.size);
    return rootIds.get(root)!;
  });
  const groups: { rows: number[] }[] = [...Array(rootIds.size)].map(() => ({ rows: [] }));
  groupOfRow.forEach((g, i) => groups[g]!.rows.push(i));

  // Balance cells: label × balanceKey (e.g. FAST-with-structure, POOR-composition-only, …).
  const cellOfRow = rows.map((r) => `${r.label}|${r.balanceKey ?? ''}`);
  const cellNames = [...new Set(cellOfRow)].sort();
  const cellIndex = new Map(cellNames.map((name, i) => [name, i]));
  const cellTotals = new Array<number>(cellNames.length).fill(0);
  for (const cell of cellOfRow) cellTotals[cellIndex.get(cell)!]!++;
  const groupCells = groups.map((g) => {
    const counts = new Array<number>(cellNames.length).fill(0);
    for (const row of g.rows) counts[cellIndex.get(cellOfRow[row]!)!]!++;
    return counts;
  });

  const random = createRandom(seed);
  const foldCells = [...Array(k)].map(() => new Array<number>(cellNames.length).fill(0));
  const foldOfRow = new Array<number>(n).fill(-1);
  // Large groups (over a quarter of a fold) go first, largest first, so that they cannot
  // unbalance the end; the rest follow in seeded random order. Sorting every group by size would
  // make the partition nearly the same for every seed, and the spread over seeds would then
  // miss the variance due to the split.
  const largeGroup = Math.max(2, Math.ceil(n / k / 4));
  const sizeKey = (g: number) => (groups[g]!.rows.length >= largeGroup ? groups[g]!.rows.length : 0);
  const order = shuffled([...groups.keys()], random).sort((a, b) => sizeKey(b) - sizeKey(a));
  const foldOrder = shuffled([...Array(k).keys()], random); // seeded tie-break between folds
  for (const g of order) {
    const counts = groupCells[g]!;
    let bestFold = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const f of foldOrder) {
      // Increase of Σ_cells (share of the cell held by this fold)²: minimising it fills the
      // emptiest fold first while spreading every cell (class × balance key) evenly.
      let cost = 0;
      for (let c = 0; c < cellNames.length; c++) {
        const before = foldCells[f]![c]! / cellTotals[c]!;
        const after = (foldCells[f]![c]! + counts[c]!) / cellTotals[c]!;
        cost += after * after - before * before;
      }
      if (cost < bestCost - 1e-15) {
        bestCost = cost;
        bestFold = f;
      }
    }
    for (let c = 0; c < cellNames.length; c++) foldCells[bestFold]![c]! += counts[c]!;
    for (const row of groups[g]!.rows) foldOfRow[row] = bestFold;
  }

  const folds: Fold[] = [...Array(k).keys()].map((f) => ({
    index: f,
    train: foldOfRow.flatMap((fold, i) => (fold !== f ? [i] : [])),
    test: foldOfRow.flatMap((fold, i) => (fold === f ? [i] : [])),
  }));
  const foldsOfFamily = new Map<string, Set<number>>();
  families.forEach((family, i) => {
    if (family === null) return;
    if (!foldsOfFamily.has(family)) foldsOfFamily.set(family, new Set());
    foldsOfFamily.get(family)!.add(foldOfRow[i]!);
  });
  const straddlingFamilies = [...foldsOfFamily].filter(([, set]) => set.size > 1).map(([f]) => f).sort();
  return { folds, foldOfRow, groupOfRow, nGroups: groups.length, straddlingFamilies, oversizedFamilies };
}

/**
 * Seeded stratified hold-out, sorted: per class (POOR, then FAST) the first round(fraction ·
 * members) of the class's crystals shuffled by `random`. With `keepTwoPerClass` (fit's
 * early-stopping split) a class with ≥ 3 members gives at least one, so validation sees both
 * classes, and every class keeps two for training.
 */
export function stratifiedHoldOut(labels: ArrayLike<number>, fraction: number, random: Random, opts: { keepTwoPerClass?: boolean } = {}): number[] {
  const out: number[] = [];
  for (const cls of [0, 1]) {
    const members = shuffled(Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] === cls), random);
    let take = Math.round(members.length * fraction);
    if (opts.keepTwoPerClass) take = Math.max(0, Math.min(members.length - 2, Math.max(members.length >= 3 ? 1 : 0, take)));
    out.push(...members.slice(0, take));
  }
  return out.sort((a, b) => a - b);
}

/** A seeded random subset of `size` indices out of [0, n), stratified by label, sorted. */
export function stratifiedSubset(labels: readonly BinaryLabel[], size: number, seed: number): number[] {
  if (size >= labels.length) return [...labels.keys()];
  const fraction = size / labels.length;
  checkFraction(fraction);
  return stratifiedHoldOut(labels, fraction, createRandom(seed));
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) throw new BadInputError(`a split fraction must lie in (0, 1), got ${fraction}`);
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]!]!; // path halving
      i = this.parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}
