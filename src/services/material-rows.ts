/**
 * Building new material rows from user input (structure text, a parsed structure, or a
 * composition) with their provenance columns, and inserting them without duplicates. Shared by
 * materials.ts (addMaterials), ingest.ts, seed.ts and optimade-import.ts.
 */
import { BadInputError } from '../errors.js';
import {
  describeStructure,
  isStorableText,
  parseComposition,
  parseStructure,
  type Structure,
  type StructureFormat,
} from '../structure/index.js';
import type { Db } from '../store/database.js';
import {
  findMaterialKeysByHashes,
  findMaterialKeysBySourceRecords,
  insertMaterialRows,
  type MaterialKey,
} from '../store/material.repository.js';
import type { MaterialAlias, MaterialProperty, NewMaterialRow } from '../store/material.table.js';
import { providerUrl } from './provenance.js';
import { derivedColumns } from './derived.js';

/** Longest free-text field (name, source, reason, actor) kept, in characters. */
export const MAX_TEXT_FIELD_CHARS = 2000;
const STRUCTURE_FORMATS: readonly StructureFormat[] = ['CIF', 'POSCAR', 'JSON'];

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
