/**
 * Materials and labels: the service API that GraphQL, the CLI and the trainer call.
 * `db` is always the first argument and may be a transaction. Rows map to domain records here.
 */
import { BadInputError, DomainError, NotFoundError, quoteInput } from '../errors.js';
import { LABEL_CLASSES } from '../domain.js';
import { parseId } from '../ids.js';
import { findElement } from '../structure/elements.js';
import { parseComposition, type Structure, type StructureFormat } from '../structure/index.js';
import { inTransaction, type Db } from '../store/database.js';
import {
  countLabelRows,
  findCurrentLabelRows,
  findLabelRowsByIds,
  findLabelRowsByMaterialIds,
  listLabelRows,
  type LabelRowWithRetracted,
} from '../store/label.repository.js';
import {
  appendMaterialAlias,
  countMaterialRows,
  findMaterialRowsByIds,
  findMaterialSummaryRowsByIds,
  findStructuresByIds,
  listMaterialRows,
  type MaterialRowFilter,
  type MaterialSummaryRow,
} from '../store/material.repository.js';
import type { LabelClass, MaterialAlias, MaterialProperty, MaterialRow } from '../store/material.table.js';
import { compositionMaterialRow, insertOrFindMaterials, structureTextMaterialRow } from './material-rows.js';
import { optimadeListOf, optimadeProvenance } from './optimade-entries.js';
import { parseOptimadeFilter } from './optimade-filter.js';
import { checkPropertyRanges, type PropertyRange } from './properties.js';

export type { LabelClass, MaterialAlias, MaterialProperty };

export interface MaterialRecord {
  id: string;
  name: string | null;
  source: string | null;
  sourceId: string | null;
  /** Link to the record at its provider, when it has one. */
  sourceUrl: string | null;
  /** Other names of the same structure (a pool's own id, later uploads of it). */
  aliases: MaterialAlias[];
  /** Numeric properties by name. */
  properties: Record<string, MaterialProperty>;
  /** From moyo (tolerance 0.1 Å); null for a composition or when none was found. */
  spaceGroupNumber: number | null;
  spaceGroupSymbol: string | null;
  /** Chemical plausibility (src/structure/oxidation.ts); null where not assessed. */
  chargeBalanced: boolean | null;
  oxidationStates: Record<string, number> | null;
  hasAnion: boolean | null;
  hasReducibleTransitionMetal: boolean | null;
  /** Set while retired (hidden from rankings). */
  retiredAt: Date | null;
  retiredBy: string | null;
  retiredReason: string | null;
  family: string | null;
  kind: 'STRUCTURE' | 'COMPOSITION';
  formula: string;
  reducedFormula: string;
  elements: string[];
  nelements: number;
  nsites: number | null;
  natoms: number;
  volumeA3: number | null;
  densityGPerCm3: number | null;
  isOrdered: boolean | null;
  /**
   * null for a composition. Absent when the record was read without it (summary reads: the
   * GraphQL DataLoaders, screening pages), since the JSON is most of a row's bytes; load it with
   * `structuresByMaterialIds`.
   */
  structure?: Structure | null;
  structureHash: string | null;
  currentLabelClass: LabelClass | null;
  /** Name of the API token (or importer) that added it. */
  createdBy: string | null;
  createdAt: Date;
  /** Only in addMaterials results: the id of the stored material an input duplicated (this one), else null. */
  duplicateOf?: string | null;
}

export interface LabelRecord {
  id: string;
  materialId: string;
  /** null on a retraction row. */
  class: LabelClass | null;
  conductivitySPerCm: number | null;
  temperatureK: number | null;
  source: string | null;
  reason: string | null;
  createdBy: string | null;
  createdAt: Date;
  retractsLabelId: string | null;
  /** True when a later row retracts this one. */
  retracted: boolean;
  /** Who retracted it, when and why; null while it stands. */
  retraction: LabelRetraction | null;
}

export interface LabelRetraction {
  reason: string | null;
  createdBy: string | null;
  createdAt: Date;
}

export interface AddMaterialInput {
  structure?: { format: StructureFormat; text: string };
  composition?: string;
  name?: string | null;
  source?: string | null;
  /** Store a structure whose density is outside [0.1, 25] g/cm³. */
  allowUnusualDensity?: boolean | null;
}

export interface MaterialFilter {
  elementsHasAll?: string[];
  elementsHasOnly?: string[];
  /** At least one of these. */
  elementsHasAny?: string[];
  /** None of these. */
  elementsHasNone?: string[];
  nelementsMin?: number;
  nelementsMax?: number;
  label?: LabelClass | 'UNLABELLED';
  /** Matches materials with the reduced formula of this input (e.g. "Li2O2" matches LiO). */
  formula?: string;
  /** Each range must hold; a material without the property matches no range. */
  properties?: PropertyRange[];
  spaceGroupNumber?: number;
  chargeBalanced?: boolean;
  hasAnion?: boolean;
  hasReducibleTransitionMetal?: boolean;
  /** true: only retired materials; false: none (rankings always leave them out). */
  retired?: boolean;
  /** An OPTIMADE filter string (services/optimade-filter.ts), combined with the other conditions by AND. */
  optimade?: string;
}

/** `after` is an opaque cursor from a previous page. */
export interface Page {
  first: number;
  after?: string | null;
}

export interface PageResult<T> {
  items: T[];
  /** One cursor per item. */
  cursors: string[];
  /** Items matching the filter, over all pages. */
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface AddMaterialsOptions {
  maxSites: number;
  maxTextBytes: number;
  maxBatchSize: number;
  actor?: string;
  /** Runs in the insert's transaction, after it (the API queues the embedding job there). */
  inTransaction?: (tx: Db, added: readonly MaterialRecord[]) => Promise<void>;
}

export interface LabelMaterialInput {
  materialId: string;
  class: LabelClass;
  conductivitySPerCm?: number | null;
  temperatureK?: number | null;
  source?: string | null;
  reason?: string | null;
}

/** Largest page a caller may ask for. */
export const MAX_PAGE_SIZE = 1000;
/** Most symbols in an element filter list (there are 118 elements; more can only be repeats). */
export const MAX_FILTER_ELEMENTS = 118;
/** Upper bound of a label temperature, in K. */
export const MAX_TEMPERATURE_K = 2000;

export { LABEL_CLASSES };

// ---------------------------------------------------------------------------------------------
// Mapping rows to records

export function materialRowToRecord(row: MaterialRow | MaterialSummaryRow): MaterialRecord {
  return {
    id: String(row.id),
    name: row.name,
    source: row.source,
    sourceId: row.source_id,
    sourceUrl: row.source_url,
    aliases: row.aliases ?? [],
    properties: row.properties ?? {},
    spaceGroupNumber: row.space_group_number,
    spaceGroupSymbol: row.space_group_symbol,
    chargeBalanced: row.charge_balanced,
    oxidationStates: row.oxidation_states,
    hasAnion: row.has_anion,
    hasReducibleTransitionMetal: row.has_reducible_tm,
    retiredAt: row.retired_at,
    retiredBy: row.retired_by,
    retiredReason: row.retired_reason,
    family: row.family,
    kind: row.kind,
    formula: row.formula,
    reducedFormula: row.reduced_formula,
    elements: row.elements,
    nelements: row.nelements,
    nsites: row.nsites,
    natoms: row.natoms,
    volumeA3: row.volume_a3,
    densityGPerCm3: row.density_g_per_cm3,
    isOrdered: row.is_ordered,
    ...('structure' in row ? { structure: row.structure } : {}),
    structureHash: row.structure_hash,
    currentLabelClass: row.current_label_class,
    createdBy: row.created_by ?? null,
    createdAt: row.created_at,
  };
}

export function labelRowToRecord(row: LabelRowWithRetracted): LabelRecord {
  return {
    id: String(row.id),
    materialId: String(row.material_id),
    class: row.class,
    conductivitySPerCm: row.conductivity_s_per_cm,
    temperatureK: row.temperature_k,
    source: row.source,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    retractsLabelId: row.retracts_label_id === null ? null : String(row.retracts_label_id),
    retracted: Boolean(row.retracted),
    retraction: row.retraction
      ? { reason: row.retraction.reason, createdBy: row.retraction.created_by, createdAt: new Date(row.retraction.created_at) }
      : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Ids, cursors and pages


/** A bigserial id as a string, or undefined when `id` cannot name a row. */
export function normaliseId(id: unknown): string | undefined {
  return parseId(id) ?? undefined;
}

/** Cursors are base64 of '<kind>:<id>'; opaque to clients. */
function encodeCursor(kind: 'material' | 'label', id: string): string {
  return Buffer.from(`${kind}:${id}`, 'utf8').toString('base64');
}

function decodeCursor(kind: 'material' | 'label', cursor: string | null | undefined): string | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const decoded = Buffer.from(String(cursor), 'base64').toString('utf8');
  const [prefix, id] = decoded.split(':');
  const normalised = normaliseId(id);
  if (prefix !== kind || !normalised || encodeCursor(kind, normalised) !== cursor) {
    throw new BadInputError(`invalid cursor ${JSON.stringify(String(cursor).slice(0, 60))}`);
  }
  return normalised;
}

function checkPageSize(first: number): number {
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new BadInputError(`first must be an integer in [0, ${MAX_PAGE_SIZE}], got ${first}`);
  }
  return first;
}

function toPage<T extends { id: string }>(
  kind: 'material' | 'label',
  fetched: T[],
  first: number,
  after: string | null,
  totalCount: number,
): PageResult<T> {
  const items = fetched.slice(0, first);
  const cursors = items.map((item) => encodeCursor(kind, item.id));
  return {
    items,
    cursors,
    totalCount,
    hasNextPage: fetched.length > first,
    // Keyset pages only go forward; anything after a cursor has the cursor's row before it.
    hasPreviousPage: after !== null,
    startCursor: cursors[0] ?? null,
    endCursor: cursors[cursors.length - 1] ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Materials

/** Wraps a domain error with the entry of an OPTIMADE list that caused it ("data[2]: …"). */
function atEntry<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DomainError) throw new BadInputError(`data[${index}]: ${error.message}`, { ...error.details, entry: index });
    throw error;
  }
}

/** Wraps a domain error with the index of the input that caused it ("inputs[3]: …"). */
function atInput<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DomainError) {
      throw new BadInputError(`inputs[${index}]: ${error.message}`, { ...error.details, index });
    }
    throw error;
  }
}

/**
 * Adds materials, all or nothing, in one transaction. Each input has exactly one of `structure`
 * or `composition`. A structure whose hash is already stored returns the existing material
 * (no duplicate row). Results are in input order.
 */
export async function addMaterials(
  db: Db,
  inputs: readonly AddMaterialInput[],
  opts: AddMaterialsOptions,
): Promise<MaterialRecord[]> {
  if (!Array.isArray(inputs)) throw new BadInputError('inputs must be a list');
  if (inputs.length > opts.maxBatchSize) {
    throw new BadInputError(`at most ${opts.maxBatchSize} materials per call, got ${inputs.length}`);
  }
  if (inputs.length === 0) return [];
  let total = 0;
  const rows = inputs.flatMap((input, index) =>
    atInput(index, () => {
      const hasStructure = input.structure !== undefined && input.structure !== null;
      const hasComposition = input.composition !== undefined && input.composition !== null;
      if (hasStructure === hasComposition) throw new BadInputError('give exactly one of structure or composition');
      const provenance = { name: input.name, source: input.source, createdBy: opts.actor };
      const limits = { ...opts, allowUnusualDensity: input.allowUnusualDensity ?? false };
      const list = hasStructure && input.structure!.format === 'JSON' ? optimadeListOf(input.structure!.text, opts) : null;
      const made = list
        ? list.entries.map((entry, i) => atEntry(i, () => structureTextMaterialRow(entry.text, 'JSON', limits, optimadeProvenance(entry, list.provider, provenance))))
        : [
            hasStructure
              ? structureTextMaterialRow(input.structure!.text, input.structure!.format, limits, provenance)
              : compositionMaterialRow(input.composition!, provenance),
          ];
      total += made.length;
      if (total > opts.maxBatchSize) throw new BadInputError(`at most ${opts.maxBatchSize} materials per call (OPTIMADE entries included)`);
      return made;
    }),
  );
  return inTransaction(db, async (tx) => {
    const { ids, inserted } = await insertOrFindMaterials(tx, rows);
    // A duplicate (same structure, or same source record) keeps the caller's name and source as an alias.
    const createdAt = new Date().toISOString();
    for (const [k, row] of rows.entries()) {
      if (inserted[k] || (row.name === null && row.source === null)) continue;
      await appendMaterialAlias(tx, ids[k]!, { name: row.name ?? null, source: row.source ?? null, sourceId: null, createdBy: row.created_by ?? null, createdAt });
    }
    const byId = new Map((await findMaterialRowsByIds(tx, [...new Set(ids)])).map((row) => [String(row.id), row]));
    const added = ids.map((id, k) => ({ ...materialRowToRecord(byId.get(id)!), duplicateOf: inserted[k] ? null : id }));
    await opts.inTransaction?.(tx, added);
    return added;
  });
}

/**
 * A user's material filter, checked, in column terms: the one place (screening's candidate filter
 * uses it too). `fieldPrefix` names the argument in messages (e.g. 'filter.').
 */
export function toRowFilter(filter: MaterialFilter, fieldPrefix = ''): MaterialRowFilter {
  const elementList = (list: string[] | undefined, field: string) => {
    if (list === undefined || list === null) return undefined;
    if (!Array.isArray(list)) throw new BadInputError(`${field} must be a list of element symbols`);
    if (list.length > MAX_FILTER_ELEMENTS) {
      throw new BadInputError(`${field} lists ${list.length} symbols, more than the limit of ${MAX_FILTER_ELEMENTS}`, { field });
    }
    return list.map((symbol) => {
      const trimmed = String(symbol).trim();
      // A well-formed symbol that names no element ("Xx") would silently match nothing.
      if (!/^[A-Z][a-z]{0,2}$/.test(trimmed) || !findElement(trimmed)) {
        throw new BadInputError(`${field}: ${quoteInput(String(symbol))} is not an element symbol`, { field, symbol: String(symbol).slice(0, 20) });
      }
      return trimmed;
    });
  };
  const count = (value: number | undefined, field: string) => {
    if (value === undefined || value === null) return undefined;
    if (!Number.isInteger(value) || value < 0) throw new BadInputError(`${field} must be a non-negative integer`);
    return value;
  };
  const spaceGroup = (value: number | undefined, field: string) => {
    if (value === undefined || value === null) return undefined;
    if (!Number.isInteger(value) || value < 1 || value > 230) throw new BadInputError(`${field} must be a space-group number in 1..230, got ${value}`, { field });
    return value;
  };
  const flag = (value: boolean | undefined, field: string) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new BadInputError(`${field} must be true or false`, { field });
    return value;
  };
  let currentLabelClass: LabelClass | null | undefined;
  if (filter.label === 'UNLABELLED') currentLabelClass = null;
  else if (filter.label !== undefined && filter.label !== null) {
    if (!LABEL_CLASSES.includes(filter.label)) throw new BadInputError(`${fieldPrefix}label: unknown label ${String(filter.label)}`);
    currentLabelClass = filter.label;
  }
  let reducedFormula: string | undefined;
  if (filter.formula !== undefined && filter.formula !== null) {
    reducedFormula = parseComposition(String(filter.formula).trim()).reducedFormula;
  }
  return {
    elementsHasAll: elementList(filter.elementsHasAll, `${fieldPrefix}elementsHasAll`),
    elementsHasOnly: elementList(filter.elementsHasOnly, `${fieldPrefix}elementsHasOnly`),
    elementsHasAny: elementList(filter.elementsHasAny, `${fieldPrefix}elementsHasAny`),
    elementsHasNone: elementList(filter.elementsHasNone, `${fieldPrefix}elementsHasNone`),
    nelementsMin: count(filter.nelementsMin, `${fieldPrefix}nelementsMin`),
    nelementsMax: count(filter.nelementsMax, `${fieldPrefix}nelementsMax`),
    currentLabelClass,
    reducedFormula,
    properties: checkPropertyRanges(filter.properties, `${fieldPrefix}properties`),
    spaceGroupNumber: spaceGroup(filter.spaceGroupNumber, `${fieldPrefix}spaceGroupNumber`),
    chargeBalanced: flag(filter.chargeBalanced, `${fieldPrefix}chargeBalanced`),
    hasAnion: flag(filter.hasAnion, `${fieldPrefix}hasAnion`),
    hasReducibleTransitionMetal: flag(filter.hasReducibleTransitionMetal, `${fieldPrefix}hasReducibleTransitionMetal`),
    retired: flag(filter.retired, `${fieldPrefix}retired`),
    expression:
      filter.optimade === undefined || filter.optimade === null || String(filter.optimade).trim() === ''
        ? undefined
        : parseOptimadeFilter(filter.optimade, `${fieldPrefix}optimade`),
  };
}

/** Keyset page of materials in id order; totalCount applies the same filter. */
export async function listMaterials(db: Db, filter: MaterialFilter, page: Page): Promise<PageResult<MaterialRecord>> {
  const first = checkPageSize(page.first);
  const after = decodeCursor('material', page.after);
  const rowFilter = toRowFilter(filter ?? {});
  const [rows, totalCount] = await Promise.all([
    first === 0 ? Promise.resolve([]) : listMaterialRows(db, rowFilter, after, first + 1),
    countMaterialRows(db, rowFilter),
  ]);
  return toPage('material', rows.map(materialRowToRecord), first, after, totalCount);
}

export async function getMaterial(db: Db, id: string): Promise<MaterialRecord> {
  const [record] = await materialsByIds(db, [id]);
  if (!record) throw new NotFoundError('material', id);
  return record;
}

/**
 * One value per key, in key order (null where missing); for DataLoader. With `structure: false`
 * the records come without their structure (see MaterialRecord.structure).
 */
export async function materialsByIds(
  db: Db,
  ids: readonly string[],
  opts: { structure?: boolean } = {},
): Promise<(MaterialRecord | null)[]> {
  const valid = [...new Set(ids.map(normaliseId).filter((id): id is string => id !== undefined))];
  const rows = opts.structure === false ? await findMaterialSummaryRowsByIds(db, valid) : await findMaterialRowsByIds(db, valid);
  const byId = new Map(rows.map((row) => [String(row.id), materialRowToRecord(row)]));
  return ids.map((id) => byId.get(normaliseId(id) ?? '') ?? null);
}

/** The structure of each material (null for a composition or a missing id), in key order; for DataLoader. */
export async function structuresByMaterialIds(db: Db, ids: readonly string[]): Promise<(Structure | null)[]> {
  const valid = [...new Set(ids.map(normaliseId).filter((id): id is string => id !== undefined))];
  const byId = new Map((await findStructuresByIds(db, valid)).map((row) => [String(row.id), row.structure]));
  return ids.map((id) => byId.get(normaliseId(id) ?? '') ?? null);
}

// ---------------------------------------------------------------------------------------------
// Labels

/** A material's label history, newest first, retraction rows and retracted labels included. */
export async function listLabels(db: Db, materialId: string, page: Page): Promise<PageResult<LabelRecord>> {
  const first = checkPageSize(page.first);
  const before = decodeCursor('label', page.after);
  const id = normaliseId(materialId);
  if (!id) throw new NotFoundError('material', String(materialId));
  const [material] = await findMaterialRowsByIds(db, [id]);
  if (!material) throw new NotFoundError('material', id);
  const [rows, totalCount] = await Promise.all([
    first === 0 ? Promise.resolve([]) : listLabelRows(db, id, before, first + 1),
    countLabelRows(db, id),
  ]);
  return toPage('label', rows.map(labelRowToRecord), first, before, totalCount);
}

/** Label histories (newest first), one list per key, in key order; for DataLoader. */
export async function labelsByMaterialIds(db: Db, ids: readonly string[]): Promise<LabelRecord[][]> {
  const valid = [...new Set(ids.map(normaliseId).filter((id): id is string => id !== undefined))];
  const byMaterial = new Map<string, LabelRecord[]>();
  for (const row of await findLabelRowsByMaterialIds(db, valid)) {
    const record = labelRowToRecord(row);
    const list = byMaterial.get(record.materialId);
    if (list) list.push(record);
    else byMaterial.set(record.materialId, [record]);
  }
  return ids.map((id) => [...(byMaterial.get(normaliseId(id) ?? '') ?? [])]);
}

/** Current label per key (null when none), in key order; for DataLoader. */
export async function currentLabelsByMaterialIds(db: Db, ids: readonly string[]): Promise<(LabelRecord | null)[]> {
  const valid = [...new Set(ids.map(normaliseId).filter((id): id is string => id !== undefined))];
  const byMaterial = new Map((await findCurrentLabelRows(db, valid)).map((row) => [String(row.material_id), labelRowToRecord(row)]));
  return ids.map((id) => byMaterial.get(normaliseId(id) ?? '') ?? null);
}

/** Labels by id, in key order (null where missing); for DataLoader. */
export async function labelsByIds(db: Db, ids: readonly string[]): Promise<(LabelRecord | null)[]> {
  const valid = [...new Set(ids.map(normaliseId).filter((id): id is string => id !== undefined))];
  const byId = new Map((await findLabelRowsByIds(db, valid)).map((row) => [String(row.id), labelRowToRecord(row)]));
  return ids.map((id) => byId.get(normaliseId(id) ?? '') ?? null);
}
