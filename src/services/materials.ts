/**
 * Materials and labels: the service API that GraphQL, the CLI and the trainer call.
 * `db` is always the first argument and may be a transaction. Rows map to domain records here.
 */
import { BadInputError, DomainError, NotFoundError, quoteInput } from '../errors.js';
import { LABEL_CLASSES } from '../domain.js';
import { parseId } from '../ids.js';
import { findElement } from '../structure/elements.js';
import {
  describeStructure,
  isStorableText,
  readOptimadeList,
  type OptimadeListEntry,
  parseComposition,
  parseStructure,
  type Structure,
  type StructureFormat,
} from '../structure/index.js';
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
  findMaterialKeysByHashes,
  findMaterialKeysBySourceRecords,
  findMaterialRowsByIds,
  findMaterialSummaryRowsByIds,
  findStructuresByIds,
  insertMaterialRows,
  listMaterialRows,
  type MaterialKey,
  type MaterialRowFilter,
  type MaterialSummaryRow,
} from '../store/material.repository.js';
import type { LabelClass, MaterialAlias, MaterialProperty, MaterialRow, NewMaterialRow } from '../store/material.table.js';
import { providerUrl } from './provenance.js';
import { derivedColumns } from './derived.js';
import { parseOptimadeFilter } from './optimade-filter.js';
import { checkPropertyRanges, propertiesOf, type PropertyRange } from './properties.js';

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
/** Longest free-text field (name, source, reason, actor) kept, in characters. */
export const MAX_TEXT_FIELD_CHARS = 2000;

export { LABEL_CLASSES };
const STRUCTURE_FORMATS: readonly StructureFormat[] = ['CIF', 'POSCAR', 'JSON'];

// ---------------------------------------------------------------------------------------------
// Row building (shared with ingest.ts and seed.ts)

/** Provenance columns of a new material. */
export interface MaterialProvenance {
  name?: string | null;
  source?: string | null;
  sourceId?: string | null;
  /** Defaults to the provider's page for the record id, when one is known (provenance.ts). */
  sourceUrl?: string | null;
  family?: string | null;
  createdBy?: string | null;
  aliases?: MaterialAlias[];
  /** Properties given with the record (checked by `checkProperties`). */
  properties?: Record<string, MaterialProperty>;
}

export function optionalText(value: string | null | undefined, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new BadInputError(`${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT_FIELD_CHARS) throw new BadInputError(`${field} is longer than ${MAX_TEXT_FIELD_CHARS} characters`);
  if (!isStorableText(trimmed)) {
    throw new BadInputError(`${field} is not valid text: it contains a NUL character or an unpaired surrogate`, { field });
  }
  return trimmed === '' ? null : trimmed;
}

function provenanceColumns(p: MaterialProvenance) {
  const sourceId = optionalText(p.sourceId, 'sourceId');
  return {
    name: optionalText(p.name, 'name'),
    source: optionalText(p.source, 'source'),
    source_id: sourceId,
    source_url: optionalText(p.sourceUrl, 'sourceUrl') ?? providerUrl(sourceId),
    aliases: JSON.stringify(p.aliases ?? []),
    family: optionalText(p.family, 'family'),
    created_by: optionalText(p.createdBy, 'actor'),
  };
}

/**
 * Densities outside this range (g/cm³) are refused unless the caller allows them. The densest
 * element (Os) is 22.6. The lower bound is 0.1, not 0.5: the seeded pool holds a genuine Materials
 * Project entry at 0.22 (mp-995393, LiS4, 10 atoms in 2,016 Å³); a cell in the wrong unit (nm,
 * bohr) or a box around a few atoms is orders of magnitude below either.
 */
export const MIN_DENSITY_G_PER_CM3 = 0.1;
export const MAX_DENSITY_G_PER_CM3 = 25;

/** Refuses a physically absurd cell (wrong length unit, missing atoms, a 1000 Å box) unless allowed. */
function checkDensity(density: number, allowUnusualDensity: boolean | undefined): void {
  if (allowUnusualDensity || (density >= MIN_DENSITY_G_PER_CM3 && density <= MAX_DENSITY_G_PER_CM3)) return;
  throw new BadInputError(
    `density ${density.toPrecision(3)} g/cm³ is outside [${MIN_DENSITY_G_PER_CM3}, ${MAX_DENSITY_G_PER_CM3}] g/cm³ ` +
      '(a cell in the wrong unit, or atoms missing?); pass allowUnusualDensity: true to store it anyway',
    { field: 'allowUnusualDensity', density },
  );
}

/** A STRUCTURE row from a parsed structure. */
export function structureMaterialRow(
  structure: Structure,
  provenance: MaterialProvenance = {},
  opts: { allowUnusualDensity?: boolean } = {},
): NewMaterialRow {
  const facts = describeStructure(structure);
  checkDensity(facts.densityGPerCm3, opts.allowUnusualDensity);
  return {
    ...provenanceColumns(provenance),
    kind: 'STRUCTURE',
    formula: facts.formula,
    reduced_formula: facts.reducedFormula,
    elements: facts.elements,
    nelements: facts.nelements,
    nsites: facts.nsites,
    natoms: facts.natoms,
    volume_a3: facts.volumeA3,
    density_g_per_cm3: facts.densityGPerCm3,
    is_ordered: facts.isOrdered,
    structure: JSON.stringify(structure),
    structure_hash: facts.hash,
    properties: JSON.stringify(provenance.properties ?? {}),
    ...derivedColumns(structure),
  };
}

/** A STRUCTURE row from structure text; throws StructureParseError / BadInputError. */
export function structureTextMaterialRow(
  text: string,
  format: StructureFormat,
  limits: { maxSites: number; maxTextBytes: number; allowUnusualDensity?: boolean },
  provenance: MaterialProvenance = {},
): NewMaterialRow {
  if (!STRUCTURE_FORMATS.includes(format)) throw new BadInputError(`unknown structure format ${String(format)}`);
  if (typeof text !== 'string') throw new BadInputError('structure text must be a string');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) {
    throw new BadInputError(`structure text is ${bytes} bytes, more than the limit of ${limits.maxTextBytes}`);
  }
  const structure = parseStructure(format, text, { maxSites: limits.maxSites, maxTextBytes: limits.maxTextBytes });
  return structureMaterialRow(structure, provenance, { allowUnusualDensity: limits.allowUnusualDensity });
}

/** A COMPOSITION row from a formula such as "Li6.4La3Zr1.4Ta0.6O12"; throws BadInputError. */
export function compositionMaterialRow(composition: string, provenance: MaterialProvenance = {}): NewMaterialRow {
  if (typeof composition !== 'string' || composition.trim() === '') throw new BadInputError('composition is empty');
  const facts = parseComposition(composition.trim());
  return {
    ...provenanceColumns(provenance),
    kind: 'COMPOSITION',
    formula: facts.formula,
    reduced_formula: facts.reducedFormula,
    elements: facts.elements,
    nelements: facts.nelements,
    nsites: null,
    natoms: facts.natoms,
    volume_a3: null,
    density_g_per_cm3: null,
    is_ordered: null,
    structure: null,
    structure_hash: null,
    properties: JSON.stringify(provenance.properties ?? {}),
    ...derivedColumns(null, facts.amounts),
  };
}

/**
 * Key of a row's external record, when it has both parts (the unique index on (source, source_id)
 * treats a null source as distinct from every other).
 */
function sourceRecordKey(source: string | null | undefined, sourceId: string | null | undefined): string | undefined {
  return source && sourceId ? `${source}\u0000${sourceId}` : undefined;
}

/**
 * Inserts rows in one statement, skipping those already stored (same structure hash, or same
 * (source, sourceId)), and returns for every input row the id of the stored row (new or
 * pre-existing) and whether this call inserted it (true for the first input of a new row only).
 */
export async function insertOrFindMaterials(
  db: Db,
  rows: readonly NewMaterialRow[],
): Promise<{ ids: string[]; inserted: boolean[] }> {
  const insertedKeys = await insertMaterialRows(db, rows);
  const insertedIds = new Set(insertedKeys.map((r) => String(r.id)));
  const byHash = new Map<string, MaterialKey>();
  const bySourceRecord = new Map<string, MaterialKey>();
  const remember = (key: MaterialKey) => {
    if (key.structure_hash) byHash.set(key.structure_hash, key);
    const recordKey = sourceRecordKey(key.source, key.source_id);
    if (recordKey) bySourceRecord.set(recordKey, key);
  };
  insertedKeys.forEach(remember);

  const missing = rows.filter(
    (r) => !(r.structure_hash && byHash.has(r.structure_hash)) && !bySourceRecord.has(sourceRecordKey(r.source, r.source_id) ?? ''),
  );
  const missingHashes = [...new Set(missing.flatMap((r) => (r.structure_hash ? [r.structure_hash] : [])))];
  (await findMaterialKeysByHashes(db, missingHashes)).forEach(remember);
  const missingRecords = missing
    .filter((r) => !(r.structure_hash && byHash.has(r.structure_hash)) && sourceRecordKey(r.source, r.source_id))
    .map((r) => ({ source: r.source!, sourceId: r.source_id! }));
  (await findMaterialKeysBySourceRecords(db, missingRecords)).forEach(remember);

  // Rows with neither a hash nor a source record never conflict: they come back in input order.
  const keyless = insertedKeys.filter((r) => !r.structure_hash && !sourceRecordKey(r.source, r.source_id));
  let nextKeyless = 0;
  const ids: string[] = [];
  const inserted: boolean[] = [];
  for (const row of rows) {
    const recordKey = sourceRecordKey(row.source, row.source_id);
    const found =
      (row.structure_hash ? byHash.get(row.structure_hash) : undefined) ??
      (recordKey ? bySourceRecord.get(recordKey) : undefined) ??
      (!row.structure_hash && !recordKey ? keyless[nextKeyless++] : undefined);
    if (!found) throw new Error(`material row ${row.formula} was neither inserted nor found`);
    const id = String(found.id);
    inserted.push(insertedIds.delete(id));
    ids.push(id);
  }
  return { ids, inserted };
}

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

/** The entries of an OPTIMADE list response given as one JSON input, or null for a single structure. */
export function optimadeListOf(text: string, limits: { maxTextBytes: number }) {
  if (typeof text !== 'string') throw new BadInputError('structure text must be a string');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) throw new BadInputError(`structure text is ${bytes} bytes, more than the limit of ${limits.maxTextBytes}`);
  // Cheap test first: a single structure is parsed once, by the structure reader.
  if (!/"data"\s*:\s*\[/.test(text)) return null;
  return readOptimadeList(text);
}

/**
 * Provenance of an OPTIMADE entry: its id as `sourceId` (linked when the provider has pages, e.g.
 * Materials Project), `optimade:<provider prefix>` as source unless the caller gave one, and its
 * numeric provider-specific attributes (`_mp_band_gap`, …) as properties.
 */
export function optimadeProvenance(
  entry: OptimadeListEntry,
  provider: string | null,
  given: MaterialProvenance,
  /** Units of the provider's properties by name, from its `/v1/info/structures` (an import reads them). */
  units: Readonly<Record<string, string>> = {},
): MaterialProvenance {
  const attributes = entry.attributes;
  const formula = typeof attributes.chemical_formula_reduced === 'string' ? attributes.chemical_formula_reduced : null;
  const inputs = Object.entries(attributes)
    .filter(([name, value]) => /^_[a-z0-9]+_[a-z0-9_]+$/.test(name) && typeof value === 'number' && Number.isFinite(value))
    .map(([name, value]) => ({
      name,
      value: value as number,
      unit: Object.hasOwn(units, name) ? units[name] : null,
      source: `OPTIMADE ${provider ?? 'provider'} entry ${entry.id ?? '?'}`,
    }));
  return {
    name: given.name ?? formula ?? entry.id,
    source: given.source ?? (provider ? `optimade:${provider}` : 'optimade'),
    sourceId: entry.id,
    sourceUrl: given.sourceUrl,
    createdBy: given.createdBy,
    properties: propertiesOf(inputs, given.createdBy ?? null),
  };
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
